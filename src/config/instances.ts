// [instances.NAME]: one CLIProxyAPI process each (or, with `url`, one gw does not start).
import { homedir } from "node:os";
import { cliproxyAuthDir } from "../fs/home-path.ts";
import { globalKeyElsewhere } from "./global.ts";
import { INSTANCE_NAME, nameProblem, saferName } from "./names.ts";
import { formatPath } from "./positions.ts";
import { type Field, isTable, type Raw, type Reader } from "./reader.ts";
import { didYouMean } from "./suggest.ts";
import { readTuning, resolveTuning, TUNING_KEYS, type TuningLayer } from "./tuning.ts";
import { type InstanceConfig, KEY_PROVIDERS, OAUTH_PROVIDERS, type ProviderConfig, type ProviderType } from "./types.ts";

export const INSTANCE_KEYS = ["port", "url", "api_key", "command", "auth_dir", "providers", ...TUNING_KEYS];
export const PROVIDER_KEYS = ["type", "base_url", "api_keys", "rotation_strategy"];
export const PROVIDER_TYPES: readonly string[] = [...OAUTH_PROVIDERS, ...KEY_PROVIDERS];

export interface InstanceDraft extends Omit<InstanceConfig, keyof ReturnType<typeof resolveTuning>> {
  tuning: TuningLayer;
  portField?: Field;
}

/**
 * `declared` gets every instance the file has, usable or not, with its provider types — undefined
 * where they are not all known (a table that is no table, a provider entry with its own error):
 * routes are checked against them, not only against the usable instances.
 */
export function readInstances(r: Reader, raw: Raw, dir: string, declared = new Map<string, readonly string[] | undefined>()): InstanceDraft[] {
  const out: InstanceDraft[] = [];
  for (const [name, value] of Object.entries(raw)) {
    const path = ["instances", name];
    declared.set(name, undefined);
    const bad = nameProblem(INSTANCE_NAME, name);
    if (bad) r.error(path, bad, `rename it, e.g. [instances.${saferName(INSTANCE_NAME, name)}], and the targets that name it`);
    if (!isTable(value)) {
      r.error(path, `expected a table [instances.${name}]`);
      continue;
    }
    const f = r.fields(path, value, INSTANCE_KEYS, globalKeyElsewhere(`[instances.${name}]`));
    const url = r.str(f.get("url"));
    // Without a port (missing, mistyped) the instance is out, but the rest of its table is still
    // read: gw check lists every problem at once, not one more after each fix.
    const port = readPort(r, f, url, path);
    const command = r.strList(f.get("command")) ?? [];
    const written = f.get("command")?.value;
    if (f.get("command") && command.length === 0) r.error(f.get("command")!.path, "command is empty", 'give the program and its arguments, e.g. ["./cli-proxy-api", "-config", "{config}"]');
    if (typeof written === "string" && /\s/.test(written.trim())) r.warn(f.get("command")!.path, `command is one string, and gw runs no shell: it would start a program named "${written}"`, `write the program and each argument as a list: ${commandListHint(written)}`);
    const apiPath = url && port !== undefined ? API_PATH_END.exec(new URL(url).pathname)?.[0] : undefined; // a url that gave no port did not parse
    if (apiPath) {
      const base = url!.replace(/\/+$/, "").slice(0, -apiPath.replace(/\/+$/, "").length);
      r.warn(f.get("url")!.path, `url ends in ${apiPath.replace(/\/+$/, "")}: gw adds each request's own path (/v1/chat/completions, /v1/messages, …) to url, so requests would go to ${new URL(url!).pathname.replace(/\/+$/, "")}/v1/…`, `leave the API version out: url = "${base}"`);
    }
    if (url && f.get("command")) r.warn(f.get("command")!.path, "command is ignored for an instance given by url", "gw does not start instances that have a url");
    const authDir = r.str(f.get("auth_dir"));
    const providers = readProviders(r, f.get("providers"));
    const listed = f.get("providers")?.value ?? [];
    if (Array.isArray(listed) && listed.length === providers.length) declared.set(name, providers.map((p) => p.type));
    const tuning = readTuning(r, f);
    if (!url && f.get("api_key")) r.warn(f.get("api_key")!.path, "api_key is only used with url", "gw generates the key of instances it starts");
    if (port === undefined) continue;
    out.push({
      name,
      port,
      portField: f.get("port"),
      baseUrl: url ? url.replace(/\/+$/, "") : `http://127.0.0.1:${port}`,
      managed: !url,
      apiKey: url ? (r.str(f.get("api_key"), { secret: true }) ?? "") : "",
      command,
      commandAsWritten: command.length ? (Array.isArray(written) ? written : [written]).map(String) : [],
      // A leading ~ is the home directory, as CLIProxyAPI reads its own auth-dir (the old generator
      // wrote the value through): gw's YAML holds the path resolved.
      authDir: cliproxyAuthDir(dir, authDir ?? `auths/${name}`, homedir()),
      providers,
      tuning,
    });
  }
  return out;
}

/** The API version a relay's documented base URL ends in (OpenAI SDK style: https://host/api/v1). */
const API_PATH_END = /\/v1(?:beta|alpha)?\/*$/i;

function readPort(r: Reader, f: Map<string, Field>, url: string | undefined, path: readonly string[]): number | undefined {
  if (url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
      if (!/^https?:$/.test(parsed.protocol)) throw new Error();
    } catch {
      r.error(f.get("url")!.path, `"${url}" is not an http(s) URL`, r.fixHint(f.get("url")!, url, "an http(s) URL", () => 'write it like "http://127.0.0.1:8317"'));
      return undefined;
    }
    return parsed.port ? Number(parsed.port) : parsed.protocol === "https:" ? 443 : 80;
  }
  const field = f.get("port");
  if (!field && r.misspelled.has(formatPath([...path, "port"]))) return undefined; // the typo has its error
  if (!field) {
    r.error(f.get("providers")?.path.slice(0, 2) ?? [], "port is required", "add port = 8146 (a free port), or url = \"http://host:port\" for an instance gw does not start");
    return undefined;
  }
  return r.int(field, { min: 1, max: 65535 });
}

function readProviders(r: Reader, field: Field | undefined): ProviderConfig[] {
  if (!field) return [];
  if (!Array.isArray(field.value)) {
    r.error(field.path, "providers must be a list of tables", 'e.g. providers = [{ type = "antigravity" }]');
    return [];
  }
  const out: ProviderConfig[] = [];
  field.value.forEach((item, index) => {
    const path = [...field.path, index];
    if (!isTable(item)) return r.error(path, "expected a table like { type = \"claude\" }");
    const f = r.fields(path, item, PROVIDER_KEYS);
    const type = r.str(f.get("type"));
    if (type === undefined) return r.error(path, "provider has no type", `use one of ${PROVIDER_TYPES.join(", ")}`);
    if (!PROVIDER_TYPES.includes(type)) {
      const guess = didYouMean(type, PROVIDER_TYPES);
      return r.error(f.get("type")!.path, `unknown provider type "${type}"`, guess ? `did you mean "${guess}"?` : `use one of ${PROVIDER_TYPES.join(", ")}`);
    }
    const baseUrl = r.str(f.get("base_url")) ?? "";
    if (baseUrl && !/^https?:\/\/[^/]/i.test(baseUrl)) {
      const scheme = () => `write it with its scheme: base_url = "https://${baseUrl.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "")}"`;
      r.error(f.get("base_url")!.path, `base_url "${baseUrl}" is not an http(s) URL`, r.fixHint(f.get("base_url")!, baseUrl, "the relay's http(s) URL", scheme));
    }
    const apiKeys = r.strList(f.get("api_keys"), { secret: true }) ?? [];
    const isKeyType = (KEY_PROVIDERS as readonly string[]).includes(type);
    if (isKeyType && apiKeys.length === 0) r.warn(path, `${type} provider has no api_keys`, "add api_keys = [\"${MY_KEY}\"] (with the key in .env)");
    if (type === "openai" && !baseUrl) r.error(path, "openai provider needs base_url", "CLIProxyAPI drops openai-compatibility entries without base-url");
    if (!isKeyType && (apiKeys.length || baseUrl)) r.warn(path, `${type} is an OAuth provider: base_url and api_keys are not used`, `log in with: gw login <instance> ${type}`);
    out.push({ type: type as ProviderType, index, baseUrl, apiKeys });
  });
  return out;
}

export function finishInstance(d: InstanceDraft, global: TuningLayer): InstanceConfig {
  const { tuning, portField: _p, ...rest } = d;
  return { ...rest, ...resolveTuning(global, tuning) };
}

/** `command = ["sleep", "1000"]` for "sleep 1000"; quotes in the string are the user's to split. */
export function commandListHint(written: string): string {
  if (/["'\\]/.test(written)) return 'command = ["program", "arg", …]';
  return `command = [${written.trim().split(/\s+/).map((w) => JSON.stringify(w)).join(", ")}]`;
}
