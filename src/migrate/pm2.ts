// The old setup ran its instances and lb.js under PM2 from an ecosystem.config.js. While those
// apps run they hold the ports gw wants; this module reads the file (as data: it is never run),
// works out which port each app holds, and names the apps holding gw's ports with the exact pm2
// commands that stop them for good.

import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { displayPath } from "../cli/display-path.ts";
import { cliproxyAuthDir } from "../fs/home-path.ts";
import { DOES_NOT_EXIST, readSmallFile } from "../fs/read-small.ts";
import { maskerOf } from "../observe/mask.ts";
import { PRE_GW, writtenByGw } from "../instances/pre-gw.ts";
import type { Config } from "../config/types.ts";
import { isObject as isJsonObject } from "../json/object.ts";
import { type JsValue, readExports, readLiteral, Unread } from "./js-literal.ts";
import { misreadName, pm2StopCommands } from "./pm2-stop.ts";

/**
 * The names PM2 finds an ecosystem by (its Common.getConfigFileCandidates: ecosystem + .json, .yml,
 * .yaml, .config.js, .config.cjs, .config.mjs), the old setup's own first, and ecosystem.config.json,
 * which PM2 reads as JSON when named.
 */
export const ECOSYSTEM_FILES = ["ecosystem.config.js", "ecosystem.config.cjs", "ecosystem.config.mjs", "ecosystem.config.json", "ecosystem.json", "ecosystem.yml", "ecosystem.yaml"];
/** Larger than any ecosystem file or instance YAML; what is larger is not one. */
const MAX_FILE_BYTES = 1 << 20;

export interface Pm2App {
  readonly name: string;
  /** Ports the app holds, each with how that was found out. */
  readonly ports: readonly { readonly port: number; readonly why: string }[];
}

export interface OldAuthDir {
  readonly dir: string;
  readonly instance: string | null;
}

export interface Pm2Plan {
  readonly file: string;
  readonly apps: readonly Pm2App[];
  /** Apps holding one of gw's ports, with what gw uses the port for. */
  readonly holding: readonly { readonly app: string; readonly port: number; readonly gw: string }[];
  /** The pm2 commands that stop and forget the holding apps (empty when none holds a port). */
  readonly commands: readonly string[];
  /** Holding apps left out of `commands`: their names pm2 would misread (see pm2-stop.ts). */
  readonly stop_by_id: readonly { readonly app: string; readonly why: string }[];
  /** What could not be read (apps without a readable name, ports that are expressions). */
  readonly unread: readonly string[];
  /**
   * The auth dirs the old instances' YAMLs name (`auth-dir`, resolved as CLIProxyAPI does): their
   * logins are the old layout's too. Each with the gw instance that YAML was (instances/NAME.yaml,
   * or its `port:`), null when it was none of them; a dir several YAMLs name is listed for each.
   */
  readonly auth_dirs: readonly OldAuthDir[];
}

/** The ecosystem file beside the config, if there is one. */
export function findEcosystem(dir: string): string | undefined {
  return ECOSYSTEM_FILES.map((n) => join(dir, n)).find((f) => existsSync(f));
}

/** gw's ports and what it uses each for. */
function gwPorts(config: Config): Map<number, string> {
  const ports = new Map<number, string>([[config.global.mainPort, "the load balancer (main_port)"]]);
  for (const i of config.instances) if (i.managed && !ports.has(i.port)) ports.set(i.port, `instance "${i.name}"`);
  return ports;
}

export async function planPm2(config: Config, file: string): Promise<Pm2Plan> {
  const read = readSmallFile(file, MAX_FILE_BYTES);
  if ("why" in read) return { file, apps: [], holding: [], commands: [], stop_by_id: [], unread: [`${displayPath(file, config.dir)} ${read.why}`], auth_dirs: [] };
  const exported = exportedBy(file, new TextDecoder().decode(read.bytes));
  const list = isObject(exported) ? exported.apps : exported;
  const unread: string[] = [];
  const authDirs = new Map<string, OldAuthDir>(); // by dir and instance
  if (!Array.isArray(list)) unread.push(list instanceof Unread ? `apps = ${list.excerpt()}` : `no apps list in ${displayPath(file, config.dir)}`);
  const apps: Pm2App[] = [];
  const unnamed = new Set<string>();
  for (const raw of Array.isArray(list) ? list : []) {
    if (!isObject(raw)) {
      unread.push(`an app that is no object (${raw instanceof Unread ? raw.excerpt() : String(raw)})`);
      continue;
    }
    // An app whose name is an expression (`process.env.APP || "lb"`) still has ports to check; it
    // is shown by its expression and stopped by its id, as no name to type is known.
    const name = typeof raw.name === "string" ? raw.name : `(name: ${shown(raw.name)})`;
    if (typeof raw.name !== "string") {
      unread.push(`the name of an app (${shown(raw.name)}, script ${shown(raw.script)})`);
      unnamed.add(name);
    }
    apps.push({ name, ports: appPorts({ ...raw, name }, dirname(file), config, { unread, authDirs }) });
  }
  const ours = gwPorts(config);
  const holding = apps.flatMap((a) => a.ports.filter((p) => ours.has(p.port)).map((p) => ({ app: a.name, port: p.port, gw: ours.get(p.port)! })));
  const commands = pm2StopCommands(holding.map((h) => h.app).filter((a) => !unnamed.has(a)));
  const stop_by_id = [...new Set(holding.map((h) => h.app))].flatMap((app) => {
    const why = unnamed.has(app) ? "its name is an expression in the file, not written out" : misreadName(app);
    return why ? [{ app, why }] : [];
  });
  return { file, apps, holding, commands, stop_by_id, unread: unread.map(maskerOf(config).text), auth_dirs: [...authDirs.values()] }; // a script path may be a token's shape
}

/**
 * The file's data: YAML as PM2 reads it (ecosystem.yml), JSON too — PM2 evaluates a .json file as a
 * JavaScript expression, so one with comments or unquoted keys is read as a literal — and anything
 * else as a JS file's exports.
 */
function exportedBy(file: string, text: string): JsValue | undefined {
  if (/\.json$/i.test(file)) return readJson(text);
  if (!/\.ya?ml$/i.test(file)) return readExports(text);
  try {
    return parseYaml(text) as JsValue;
  } catch {
    return undefined;
  }
}

function readJson(text: string): JsValue | undefined {
  try {
    return JSON.parse(text) as JsValue;
  } catch {
    return readLiteral(text);
  }
}

/** A value of the file as a line may show it: an expression by its excerpt (strings left out), none as "?". */
const shown = (v: JsValue | undefined): string => (v instanceof Unread ? v.excerpt() : v === undefined ? "?" : typeof v === "object" && v !== null ? "not a string" : String(v));

type JsObject = { [key: string]: JsValue };
const isObject = (v: JsValue | undefined): v is JsObject => isJsonObject(v) && !(v instanceof Unread);

/**
 * Where an app listens: `env.PORT` (and `env_*` variants); `--port N` in its args; the `port:` of
 * the CLIProxyAPI YAML named by `-config FILE` (or, for `instances/NAME.yaml`, instance NAME's
 * port), without it the config.yaml in the app's cwd; for the old `lb.js`, main_port (the
 * generated script had it built in). A script or cwd that is an expression (other than the
 * old lb.js's name, or `cwd: __dirname`) goes into `found.unread`: it may hold a port of gw's.
 * That YAML's `auth-dir` goes into `found.authDirs`, with the gw
 * instance the YAML was: instances/NAME.yaml is NAME's, else the instance on its `port:`.
 */
function appPorts(app: JsObject, base: string, config: Config, found: { unread: string[]; authDirs: Map<string, OldAuthDir> }): { port: number; why: string }[] {
  const { unread } = found;
  const out: { port: number; why: string }[] = [];
  const add = (port: number | undefined, why: string) => {
    if (port !== undefined && Number.isInteger(port) && port > 0 && port < 65536 && !out.some((p) => p.port === port)) out.push({ port, why });
  };
  for (const [key, env] of Object.entries(app)) {
    if (key !== "env" && !key.startsWith("env_")) continue;
    if (isObject(env)) add(portOf(env.PORT ?? env.port), `${key}.PORT`);
  }
  const args = argsOf(app.args);
  if (args === undefined) unread.push(`args of ${app.name} (${(app.args as Unread).excerpt()})`);
  const flag = (names: string[]) => {
    for (let i = 0; i < (args ?? []).length; i++) {
      const a = args![i]!;
      const m = /^--?([\w-]+)(?:=(.*))?$/.exec(a);
      if (m && names.includes(m[1]!)) return m[2] ?? args![i + 1];
    }
    return undefined;
  };
  add(portOf(flag(["port", "p"])), "--port in args");
  const yamlFile = flag(["config"]) ?? (isCliproxy(app.script) ? "config.yaml" : undefined); // CLIProxyAPI's default: ./config.yaml
  if (yamlFile) {
    const named = config.instances.find((i) => i.managed && basename(yamlFile) === `${i.name}.yaml`);
    const cwd = cwdOf(app.cwd, base);
    const yaml = cwd === undefined ? undefined : instanceYaml(resolve(cwd, yamlFile));
    if (cwd === undefined) unread.push(`the cwd of ${app.name} (${(app.cwd as Unread).excerpt()}), where its ${yamlFile} is`);
    else if (typeof yaml === "string") unread.push(`${yamlFile} (the -config of ${app.name}) ${yaml}`);
    else if (yaml) {
      add(yaml.port, `port: in ${yamlFile}`);
      const inst = named ?? config.instances.find((i) => i.managed && i.port === yaml.port);
      if (yaml.authDir) {
        const dir = cliproxyAuthDir(cwd, yaml.authDir, homedir());
        found.authDirs.set(`${inst?.name ?? ""}\0${dir}`, { dir, instance: inst?.name ?? null });
      }
    }
    add(named?.port, `${yamlFile} is instance "${named?.name}"'s YAML`);
  }
  if (runsOldLb(app.script, args ?? [])) add(config.global.mainPort, "the old lb.js (main_port)");
  else if (app.script instanceof Unread) unread.push(`the script of ${app.name} (${app.script.excerpt()})`);
  return out;
}

/** The folder an app runs in: its `cwd` from the ecosystem file's folder (`__dirname` is that folder); undefined when it is another expression. */
function cwdOf(cwd: JsValue | undefined, base: string): string | undefined {
  if (typeof cwd === "string") return resolve(base, cwd);
  if (cwd instanceof Unread) return cwd.source.trim() === "__dirname" ? base : undefined;
  return base;
}

/**
 * Whether an app is the old lb.js: its script (whatever `interpreter` runs it) — also an
 * expression that ends a string in that name, `__dirname + "/lb.js"`, `path.join(__dirname, "lb.js")`
 * — or an argument of the program that is its script: `script: "node", args: "lb.js"`, a shell's
 * `-c "node lb.js"`.
 */
function runsOldLb(script: JsValue | undefined, args: readonly string[]): boolean {
  if (script instanceof Unread && /(?:^|[/\\"'`])lb\.js["'`]/.test(script.source)) return true;
  const words = [...(typeof script === "string" ? [script] : []), ...args.flatMap((a) => a.split(/\s+/))];
  return words.some((w) => basename(w.replace(/^["']|["']$/g, "")) === "lb.js");
}

/** A CLIProxyAPI binary by its usual names (release archives: cli-proxy-api; often renamed cliproxy). */
function isCliproxy(script: JsValue | undefined): boolean {
  return typeof script === "string" && /^(cli-?proxy(-?api)?)(\.exe)?$/i.test(basename(script));
}

function argsOf(v: JsValue | undefined): string[] | undefined {
  if (v === undefined) return [];
  if (typeof v === "string") return v.match(/"[^"]*"|'[^']*'|\S+/g)?.map((a) => a.replace(/^(["'])(.*)\1$/, "$2")) ?? [];
  if (Array.isArray(v)) return v.map((a) => (typeof a === "string" || typeof a === "number" ? String(a) : ""));
  return undefined;
}

function portOf(v: JsValue | undefined): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string" && /^\d+$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

/**
 * The YAML's `port:` and `auth-dir:`; why it could not be read (a missing file is no news: the old
 * folder may be gone). One gw wrote is read as it was before (its kept .pre-gw copy), if kept.
 */
function instanceYaml(path: string): { port?: number; authDir?: string } | string {
  const read = readSmallFile(path, MAX_FILE_BYTES);
  if ("why" in read) return read.why === DOES_NOT_EXIST ? {} : read.why;
  let text = new TextDecoder().decode(read.bytes);
  if (writtenByGw(text)) {
    const before = readSmallFile(path + PRE_GW, MAX_FILE_BYTES);
    if ("bytes" in before) text = new TextDecoder().decode(before.bytes);
  }
  try {
    const y = parseYaml(text) as { port?: unknown; "auth-dir"?: unknown };
    const authDir = typeof y?.["auth-dir"] === "string" ? y["auth-dir"].trim() : "";
    return { ...(typeof y?.port === "number" ? { port: y.port } : {}), ...(authDir ? { authDir } : {}) };
  } catch {
    return {};
  }
}

