// The CLIProxyAPI settings that [global] provides and [instances.X] may override.
import { proxyUrlProblem } from "./proxy-url.ts";
import { type Field, isTable, type Reader } from "./reader.ts";
import { redactUrl } from "./state.ts";
import type { InstanceTuning, QuotaExceededConfig, StreamingConfig } from "./types.ts";

export const TUNING_KEYS = [
  "proxy",
  "request_retry",
  "max_retry_interval",
  "routing_strategy",
  "disable_cooling",
  "nonstream_keepalive_interval",
  "streaming_keepalive_seconds",
  "streaming_bootstrap_retries",
  "streaming",
  "quota_switch_project",
  "quota_switch_preview_model",
  "quota_exceeded",
  "request_log",
  "logs_max_total_size_mb",
  "passthrough_headers",
] as const;

/** The keys of `[global.streaming]` and `[global.quota_exceeded]` (and of the instances' own). */
export const STREAMING_KEYS = ["keepalive_seconds", "bootstrap_retries"];
export const QUOTA_KEYS = ["switch_project", "switch_preview_model"];

const STRATEGIES = ["round-robin", "fill-first", "weighted-round-robin"];

/** What one level (global or an instance) sets; undefined = not set there. */
export interface TuningLayer {
  proxy?: string;
  requestRetry?: number;
  maxRetryInterval?: number;
  routingStrategy?: string;
  disableCooling?: boolean;
  nonstreamKeepaliveInterval?: number;
  requestLog?: boolean;
  logsMaxTotalSizeMb?: number;
  passthroughHeaders?: boolean;
  streamingFlat: StreamingConfig;
  streamingTable: StreamingConfig;
  quotaFlat: QuotaExceededConfig;
  quotaTable: QuotaExceededConfig;
}

export function readTuning(r: Reader, f: Map<string, Field>): TuningLayer {
  const strategy = r.str(f.get("routing_strategy"));
  // The old generator wrote no strategy for an empty one (what an empty ${VAR} gives), an
  // instance's included: "" stays in the layer, so that it is not the global strategy's either.
  if (strategy === "") r.warn(f.get("routing_strategy")!.path, "routing_strategy is empty, so CLIProxyAPI's default is used (as the old generator did)", `remove it, or use one of ${STRATEGIES.join(", ")}`);
  else if (strategy !== undefined && !STRATEGIES.includes(strategy))
    r.error(f.get("routing_strategy")!.path, `unknown routing strategy "${strategy}"`, `use one of ${STRATEGIES.join(", ")}`);
  for (const k of ["quota_switch_project", "quota_switch_preview_model", "quota_exceeded"] as const) {
    const field = f.get(k);
    if (field) r.warn(field.path, "current CLIProxyAPI versions no longer read quota-exceeded switch-* settings", "it is still written to the YAML, but has no effect; remove it to silence this");
  }
  const sub = (name: "streaming" | "quota_exceeded", known: string[]) => {
    const t = r.table(f.get(name));
    return t && isTable(t) ? r.fields(f.get(name)!.path, t, known) : new Map<string, Field>();
  };
  const st = sub("streaming", STREAMING_KEYS);
  const qt = sub("quota_exceeded", QUOTA_KEYS);
  return {
    proxy: readProxy(r, f.get("proxy")),
    requestRetry: r.oldInt(f.get("request_retry"), { min: 0 }),
    maxRetryInterval: r.oldInt(f.get("max_retry_interval"), { min: 0 }),
    routingStrategy: strategy === "" || STRATEGIES.includes(strategy ?? "") ? strategy : undefined,
    disableCooling: r.bool(f.get("disable_cooling")),
    nonstreamKeepaliveInterval: r.oldInt(f.get("nonstream_keepalive_interval"), { min: 0 }),
    requestLog: r.bool(f.get("request_log")),
    logsMaxTotalSizeMb: r.int(f.get("logs_max_total_size_mb"), { min: 0 }),
    passthroughHeaders: r.bool(f.get("passthrough_headers")),
    streamingFlat: clean({
      keepaliveSeconds: r.oldInt(f.get("streaming_keepalive_seconds"), { min: 0 }),
      bootstrapRetries: r.oldInt(f.get("streaming_bootstrap_retries"), { min: 0 }),
    }),
    streamingTable: clean({
      keepaliveSeconds: r.oldInt(st.get("keepalive_seconds"), { min: 0 }),
      bootstrapRetries: r.oldInt(st.get("bootstrap_retries"), { min: 0 }),
    }),
    quotaFlat: clean({
      switchProject: r.bool(f.get("quota_switch_project")),
      switchPreviewModel: r.bool(f.get("quota_switch_preview_model")),
    }),
    quotaTable: clean({
      switchProject: r.bool(qt.get("switch_project")),
      switchPreviewModel: r.bool(qt.get("switch_preview_model")),
    }),
  };
}

/**
 * Resolve the effective settings. Per value: instance table > instance flat keys > global flat
 * keys > global table (providers-toml.md's precedence), then the old defaults.
 */
export function resolveTuning(global: TuningLayer, inst?: TuningLayer): InstanceTuning {
  const pick = <T>(get: (l: TuningLayer) => T | undefined): T | undefined => (inst ? get(inst) : undefined) ?? get(global);
  const layered = <T extends object>(table: (l: TuningLayer) => T, flat: (l: TuningLayer) => T): T =>
    clean({ ...table(global), ...flat(global), ...(inst ? flat(inst) : {}), ...(inst ? table(inst) : {}) });
  return {
    proxy: pick((l) => l.proxy) ?? "",
    requestRetry: pick((l) => l.requestRetry) ?? 3,
    maxRetryInterval: pick((l) => l.maxRetryInterval) ?? 30,
    routingStrategy: pick((l) => l.routingStrategy) || undefined, // "": CLIProxyAPI's default
    disableCooling: pick((l) => l.disableCooling),
    nonstreamKeepaliveInterval: pick((l) => l.nonstreamKeepaliveInterval),
    requestLog: pick((l) => l.requestLog),
    logsMaxTotalSizeMb: pick((l) => l.logsMaxTotalSizeMb),
    passthroughHeaders: pick((l) => l.passthroughHeaders) ?? true,
    streaming: layered((l) => l.streamingTable, (l) => l.streamingFlat),
    quotaExceeded: layered((l) => l.quotaTable, (l) => l.quotaFlat),
  };
}

/** Drop undefined members so that spreading never overwrites a set value with nothing. */
function clean<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** `proxy`, when it is a proxy URL ("" for none); what is not is an error at its place. */
function readProxy(r: Reader, f: Field | undefined): string | undefined {
  const value = r.str(f);
  // A ${VAR} not set is warned already, and kept as written as the old format wants (only an API
  // key unset refuses to start).
  const problem = value === undefined || r.unsetHint(value) !== undefined ? undefined : proxyUrlProblem(value.trim());
  if (!problem) return value?.trim();
  // Its userinfo (a proxy's password) is left out of the message.
  r.error(f!.path, `proxy ${JSON.stringify(redactUrl(value!).slice(0, 80))}: ${problem}`, r.fixHint(f!, value!, "a proxy URL", () => 'write it with its scheme, e.g. proxy = "http://127.0.0.1:3128" or "socks5://127.0.0.1:1080" (user:password@ before the host when it asks for one)'));
  return undefined;
}
