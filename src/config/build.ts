// TOML text → validated, defaulted, frozen Config plus every problem found on the way.
import { dirname, resolve } from "node:path";
import { DOES_NOT_EXIST, readSmallFile } from "../fs/read-small.ts";
import type { Env } from "./env.ts";
import { readCld, readPricing } from "./extras.ts";
import { type GlobalDraft, readGlobal } from "./global.ts";
import { isLoopback, onThisMachine } from "./loopback.ts";
import { finishInstance, type InstanceDraft, readInstances } from "./instances.ts";
import { maskProblems } from "./masked-problems.ts";
import { parseToml, type Raw, Reader } from "./reader.ts";
import { type ReadInclude, readRouter } from "./router.ts";
import { readRouting } from "./routing.ts";
import { readTop } from "./top.ts";
import { resolveTuning } from "./tuning.ts";
import type { Config, LoadResult, Problem, Route } from "./types.ts";

/** Reads a file the config includes (the router's config_file): null when it does not exist, why when it cannot be read. */
const readIncludeFromDisk: ReadInclude = (abs) => {
  const read = readSmallFile(abs, MAX_INCLUDE_BYTES);
  if ("bytes" in read) return new TextDecoder().decode(read.bytes);
  return read.why === DOES_NOT_EXIST ? null : read;
};
const MAX_INCLUDE_BYTES = 16 << 20;

export interface ParseOptions {
  /** How an included file (the router's config_file) is read; from disk by default. */
  readonly readInclude?: ReadInclude;
  /**
   * Read for a command on this one instance (gw login): errors in other instances' tables do not
   * count — after gw init, the example relay's placeholder keys must not refuse the first login
   * of another instance. Everything else ([global], [routing], this instance) counts as always.
   * The config then holds the other instances as read, errors and all: a command given it
   * touches this instance alone.
   */
  readonly instance?: string;
}

/**
 * Pure but for `readInclude`: the same text, file name, environment and included files always
 * give the same result.
 */
export function parseConfig(text: string, file: string, env: Env = {}, { readInclude = readIncludeFromDisk, instance: only }: ParseOptions = {}): LoadResult {
  const abs = resolve(file);
  const parsed = parseToml(text, abs);
  if ("problem" in parsed) return { config: null, problems: [parsed.problem] };
  const doc = parsed.doc;
  const r = new Reader(abs, text, env);
  const { fields: top, misnamed } = readTop(r, doc);
  const table = (k: string): Raw | undefined => r.table(top.get(k));

  const global = readGlobal(r, table("global") ?? {}, dirname(abs));
  const instanceTable = table("instances") ?? {};
  // Instances written down but not usable (a bad port, a misnamed table) already have their error.
  const declared = new Map<string, readonly string[] | undefined>((misnamed.get("instances") ?? []).map((name) => [name, undefined]));
  const instances = readInstances(r, instanceTable, dirname(abs), declared);
  if (instances.length === 0 && !top.get("instances")) r.error([], "no [instances.NAME] table", "define at least one instance, e.g. [instances.main] port = 8146");
  const routes = readRouting(r, table("routing") ?? {}, instances, declared);
  const { router, includes } = readRouter(r, global.routerField, { routes: new Set(routes.keys()), dir: dirname(abs), readInclude });
  const cld = readCld(r, table("cld"), new Set(routes.keys()));
  const pricing = readPricing(r, table("pricing"));
  const defaultInstance = checkCrossReferences(r, global, instances, routes, declared);
  const bindHost = safeBindHost(r, global);

  // This file's problems first, then each included file's, each in file order.
  const rank = (p: { file: string }) => (p.file === abs ? "" : p.file);
  const problems = maskProblems(r.problems, r.expanded).sort((a, b) => rank(a).localeCompare(rank(b)) || a.line - b.line || a.col - b.col);
  const counts = (p: Problem) => p.severity === "error" && (only === undefined || p.instance === undefined || p.instance === only);
  if (problems.some(counts)) return { config: null, problems };
  const config: Config = {
    file: abs,
    includes,
    dir: dirname(abs),
    global: {
      ...resolveTuning(global.tuning),
      host: global.host,
      bindHost,
      mainPort: global.mainPort,
      apiKeys: global.apiKeys,
      adminKey: global.adminKey,
      corsOrigins: global.corsOrigins,
      allowedHosts: global.allowedHosts,
      cliproxy: global.cliproxy,
      shutdownGraceMs: global.shutdownGraceMs,
      state: global.state,
      lb: {
        cooldownsMs: global.cooldownsMs,
        maxTargetRetries: global.maxTargetRetries,
        retryAuthOn5xx: global.retryAuthOn5xx,
        autoUpgrade: global.autoUpgrade,
        maxBodyBytes: global.maxBodyBytes,
        maxBodyMemoryBytes: global.maxBodyMemoryBytes,
        maxJsonDepth: global.maxJsonDepth,
        maxJsonElements: global.maxJsonElements,
        firstByteTimeoutMs: global.firstByteTimeoutMs,
        idleTimeoutMs: global.idleTimeoutMs,
        logRetentionDays: global.logRetentionDays,
        defaultInstance,
        defaultInstanceSet: global.defaultInstance !== undefined,
        ...(router ? { router } : {}),
      },
    },
    instances: instances.map((d) => finishInstance(d, global.tuning)),
    routes,
    cld,
    pricing,
  };
  return { config: deepFreeze(config), problems };
}

function checkCrossReferences(r: Reader, g: GlobalDraft, instances: InstanceDraft[], routes: Map<string, Route>, declared: ReadonlyMap<string, unknown>): string {
  const ports = new Map<number, string>([[g.mainPort, "the load balancer (main_port)"]]);
  for (const inst of instances) {
    if (!onThisMachine(inst)) continue;
    const other = ports.get(inst.port);
    if (other) r.error(inst.portField?.path ?? ["instances", inst.name], `port ${inst.port} is also used by ${other}`, "give every instance its own free port");
    else ports.set(inst.port, `instance "${inst.name}"`);
  }
  for (const field of g.upgradeMapFields) {
    const to = g.autoUpgrade.map[field.raw];
    if (to === undefined) continue; // not text: its error is said
    // The old LB skipped an entry whose target is no route; so does gw (lb/upgrade.ts), but says so.
    if (!routes.has(to)) r.warn(field.path, `auto-upgrade target route "${to}" does not exist, so "${field.raw}" is never upgraded`, `define "${to}" under [routing] or map to one of: ${[...routes.keys()].join(", ")}`);
    if (!routes.has(field.raw)) r.warn(field.path, `auto-upgrade source route "${field.raw}" does not exist`, "requests for it never reach the map");
  }
  const named = g.defaultInstance ? r.str(g.defaultInstance) : undefined;
  if (named !== undefined && !instances.some((i) => i.name === named) && !declared.has(named)) {
    r.error(g.defaultInstance!.path, `default_instance "${named}" is not defined`, `use one of: ${instances.map((i) => i.name).join(", ")}`);
  }
  return named ?? instances[0]?.name ?? "";
}

/** A public bind without client keys would hand every account on this machine to the network. */
function safeBindHost(r: Reader, g: GlobalDraft): string {
  // "localhost" resolves to ::1 first on many systems, and a listener there refuses 127.0.0.1 —
  // the address cld, the README's nginx snippet and most tools use. Clients that ask for
  // "localhost" fall back to 127.0.0.1 when ::1 refuses (Bun, Node, curl), so bind that.
  if (g.host === "localhost") return "127.0.0.1";
  if (g.apiKeys.length > 0 || isLoopback(g.host)) return g.host;
  r.warn(["global", "host"], `host "${g.host}" without api_keys would let anyone on the network use your accounts; binding 127.0.0.1 instead`, 'add api_keys = ["${GW_CLIENT_KEY}"] under [global] to serve the network, or set host = "127.0.0.1"');
  return "127.0.0.1";
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === "object" && !Object.isFrozen(o)) {
    Object.freeze(o);
    if (o instanceof Map) for (const v of o.values()) deepFreeze(v);
    else for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

