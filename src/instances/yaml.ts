// Config → one CLIProxyAPI config YAML (pure). The old generator's mapping plus what gw needs
// to keep instances private: loopback bind, the instance's port, its auth dir, a generated key.
import { stringify } from "yaml";
import type { Config, InstanceConfig, ProviderType } from "../config/types.ts";
import { GW_HEADER } from "./pre-gw.ts";

type Yaml = Record<string, unknown>;
type ModelAlias = { name: string; alias: string };

/** Every distinct upstream model a route sends to this instance and provider type, in route order. */
function modelsFor(config: Config, instance: string, type: ProviderType): ModelAlias[] {
  return [...(modelsByTarget(config).get(`${instance}\0${type}`) ?? [])].map((m) => ({ name: m, alias: m }));
}

/**
 * The upstream models of every instance and provider type, in one pass over the routes: asked
 * for each provider of each instance, a scan per question cost 40 passes over 1,000 targets at
 * every reload of a big file. A Config is frozen, so its index is kept with it.
 */
function modelsByTarget(config: Config): Map<string, Set<string>> {
  let index = modelIndexes.get(config);
  if (index) return index;
  index = new Map();
  for (const route of config.routes.values()) {
    for (const t of route.targets) {
      const key = `${t.instance}\0${t.provider}`;
      let names = index.get(key);
      if (!names) index.set(key, (names = new Set()));
      names.add(t.model);
    }
  }
  modelIndexes.set(config, index);
  return index;
}
const modelIndexes = new WeakMap<Config, Map<string, Set<string>>>();

/** Key order is fixed so the same config always gives the same bytes. */
export function instanceYaml(config: Config, inst: InstanceConfig): string {
  const y: Yaml = {
    host: "127.0.0.1",
    port: inst.port,
    "auth-dir": inst.authDir,
    "api-keys": inst.apiKey ? [inst.apiKey] : [],
  };
  if (inst.proxy) y["proxy-url"] = inst.proxy;
  y["request-retry"] = inst.requestRetry;
  y["max-retry-interval"] = inst.maxRetryInterval;
  y["passthrough-headers"] = inst.passthroughHeaders;
  if (inst.routingStrategy) y.routing = { strategy: inst.routingStrategy };
  if (inst.disableCooling !== undefined) y["disable-cooling"] = inst.disableCooling;
  if (inst.nonstreamKeepaliveInterval !== undefined) y["nonstream-keepalive-interval"] = inst.nonstreamKeepaliveInterval;
  if (inst.requestLog !== undefined) y["request-log"] = inst.requestLog;
  if (inst.logsMaxTotalSizeMb !== undefined) y["logs-max-total-size-mb"] = inst.logsMaxTotalSizeMb;
  const streaming = dashed({ "keepalive-seconds": inst.streaming.keepaliveSeconds, "bootstrap-retries": inst.streaming.bootstrapRetries });
  if (streaming) y.streaming = streaming;
  const quota = dashed({ "switch-project": inst.quotaExceeded.switchProject, "switch-preview-model": inst.quotaExceeded.switchPreviewModel });
  if (quota) y["quota-exceeded"] = quota;

  const claude: Yaml[] = [];
  const vertex: Yaml[] = [];
  const openai: Yaml[] = [];
  for (const p of inst.providers) {
    const models = modelsFor(config, inst.name, p.type);
    const withBase = (key: string): Yaml => ({ "api-key": key, ...(p.baseUrl ? { "base-url": p.baseUrl } : {}), models });
    if (p.type === "anthropic" || p.type === "minimax") claude.push(...p.apiKeys.map(withBase));
    else if (p.type === "gemini") vertex.push(...p.apiKeys.map(withBase));
    else if (p.type === "openai")
      openai.push({
        name: `${inst.name}-openai-${p.index}`,
        "base-url": p.baseUrl,
        "api-key-entries": p.apiKeys.map((k) => ({ "api-key": k })),
        models,
      });
    // OAuth types (antigravity, codex, claude, …) write nothing: credentials live in auth-dir.
  }
  if (claude.length) y["claude-api-key"] = claude;
  if (vertex.length) y["vertex-api-key"] = vertex;
  if (openai.length) y["openai-compatibility"] = openai;
  return `${GW_HEADER}${config.file} — edit that file, not this one.\n${toYaml(y)}`;
}

/**
 * The yaml library takes ~2 ms per instance of a big file, and a reload renders every instance
 * again to see which changed (most did not): the text last rendered for the same content is
 * reused. One entry per content, dropped when the next reload renders none like it.
 */
function toYaml(y: Yaml): string {
  const json = JSON.stringify(y, exactly);
  const known = rendered.get(json);
  if (known !== undefined) {
    rendered.delete(json); // re-inserted last: the oldest entries are the ones no reload asks for
    rendered.set(json, known);
    return known;
  }
  const text = stringify(y, { lineWidth: 0, aliasDuplicateObjects: false });
  rendered.set(json, text);
  while (rendered.size > RENDERED_MAX) rendered.delete(rendered.keys().next().value!);
  return text;
}
const rendered = new Map<string, string>();
/** Keys the memo by what YAML tells apart and JSON alone would not: NaN from null, -0 from 0, a hole from null. */
const exactly = (_key: string, v: unknown) => (typeof v === "number" ? `n${Object.is(v, -0) ? "-0" : v}` : typeof v === "string" ? `s${v}` : v === undefined ? "u" : v);
/** More instances than any setup has, so a reload finds each unchanged one. */
const RENDERED_MAX = 256;

function dashed(o: Record<string, unknown>): Yaml | undefined {
  const entries = Object.entries(o).filter(([, v]) => v !== undefined);
  return entries.length ? Object.fromEntries(entries) : undefined;
}
