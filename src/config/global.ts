// [global]: the LB's own settings (old lb_* keys and gw's additions) and the instance defaults.
import { maskSecret } from "../observe/mask.ts";
import { bindHostProblem, HOST_NAME, ipVersion } from "./host.ts";
import { describe, type Field, isTable, type KeyElsewhere, keyedByName, type Raw, type Reader } from "./reader.ts";
import { readTuning, TUNING_KEYS, type TuningLayer } from "./tuning.ts";
import { readState, STATE_KEYS } from "./state.ts";
import type { AutoUpgradeConfig, CooldownsMs, StateConfig } from "./types.ts";

const COOLDOWN_KEYS = {
  auth: ["lb_auth_cooldown_ms", 300_000],
  validation: ["lb_validation_cooldown_ms", 43_200_000],
  quota: ["lb_quota_cooldown_ms", 43_200_000],
  transient: ["lb_transient_cooldown_ms", 60_000],
  transientHeavy: ["lb_transient_heavy_cooldown_ms", 120_000],
  signature: ["lb_signature_cooldown_ms", 120_000],
} as const;

export const GLOBAL_KEYS = [
  "host",
  "main_port",
  ...TUNING_KEYS,
  ...Object.values(COOLDOWN_KEYS).map(([k]) => k),
  "lb_max_target_retries",
  "lb_retry_auth_on_5xx",
  "lb_auto_upgrade_enabled",
  "lb_auto_upgrade_messages_threshold",
  "lb_auto_upgrade_tools_threshold",
  "lb_auto_upgrade_failure_streak_threshold",
  "lb_auto_upgrade_signature_enabled",
  "lb_auto_upgrade_input_tokens_threshold",
  "lb_auto_upgrade_map",
  "lb_model_router",
  "lb_max_body_mb",
  "lb_max_body_memory_mb",
  "lb_max_json_depth",
  "lb_max_json_elements",
  "lb_first_byte_timeout_ms",
  "lb_idle_timeout_ms",
  "lb_log_retention_days",
  "default_instance",
  "cliproxy",
  "api_keys",
  "admin_key",
  "cors_origins",
  "allowed_hosts",
  "shutdown_grace_ms",
  ...STATE_KEYS,
];

/**
 * A [global] key written in another table. TOML gives every key after a `[table]` line to that
 * table, and keys above the first such line to none: `main_port` written below `[routing]` is a
 * route, below `[instances.a]` an instance's key. `below`: that line, none for the top of the file.
 */
export function globalKeyElsewhere(below?: string): KeyElsewhere {
  return (name) =>
    GLOBAL_KEYS.includes(name)
      ? { what: "a [global] setting", fix: below ? `move it under [global]: every key after the ${below} line belongs to ${below}` : "move it under a [global] line" }
      : undefined;
}

export interface GlobalDraft {
  host: string;
  mainPort: number;
  apiKeys: string[];
  adminKey: string;
  corsOrigins: string[];
  allowedHosts: string[];
  cliproxy: string;
  shutdownGraceMs: number;
  state: StateConfig;
  tuning: TuningLayer;
  cooldownsMs: CooldownsMs;
  maxTargetRetries: number;
  retryAuthOn5xx: boolean;
  autoUpgrade: AutoUpgradeConfig;
  /** Field of lb_auto_upgrade_map entries, for checking them against the routes later. */
  upgradeMapFields: Field[];
  maxBodyBytes: number;
  maxBodyMemoryBytes: number;
  maxJsonDepth: number;
  maxJsonElements: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  logRetentionDays: number;
  defaultInstance?: Field;
  /** `[global.lb_model_router]`, read once the routes are known (config/router.ts). */
  routerField?: Field;
}

export function readGlobal(r: Reader, raw: Raw, dir: string): GlobalDraft {
  const f = r.fields(["global"], raw, GLOBAL_KEYS);
  const mainPort = f.get("main_port");
  if (!mainPort && !r.misspelled.has("global.main_port")) r.warn(["global"], "main_port is not set; using 8145", "add main_port = 8145 under [global]");
  const cooldownsMs = Object.fromEntries(
    Object.entries(COOLDOWN_KEYS).map(([name, [key, dflt]]) => [name, r.oldInt(f.get(key), { min: 0 }) ?? dflt]),
  ) as unknown as CooldownsMs;
  const threshold = (key: string, dflt: number) => r.oldInt(f.get(key), { min: 1 }) ?? dflt;
  const mapTable = readUpgradeMap(r, f.get("lb_auto_upgrade_map"));
  const upgradeMapFields: Field[] = Object.entries(mapTable).map(([from, to]) => ({ raw: from, value: to, path: [...f.get("lb_auto_upgrade_map")!.path, from] }));
  const map = keyedByName<string>(); // looked up with the model a client sends
  for (const field of upgradeMapFields) {
    const to = r.str(field);
    if (to !== undefined) map[field.raw] = to;
  }
  const apiKeys = readClientKeys(r, f.get("api_keys"));
  const adminKey = r.str(f.get("admin_key"), { secret: true }) ?? "";
  if (adminKey && apiKeys.includes(adminKey)) {
    r.warn(f.get("admin_key")!.path, "admin_key is also one of api_keys: every client holding that key may read the status page and /metrics", "give admin_key a value of its own (openssl rand -hex 24)");
  }
  return {
    // No host written: loopback. (The old tool listened on 0.0.0.0 without any client keys;
    // serving the network is now a choice the file states: host = "0.0.0.0" plus api_keys.)
    host: readBindHost(r, f.get("host")),
    mainPort: r.int(mainPort, { min: 1, max: 65535 }) ?? 8145,
    apiKeys,
    adminKey,
    corsOrigins: readOrigins(r, f.get("cors_origins")),
    allowedHosts: readHostNames(r, f.get("allowed_hosts")),
    cliproxy: r.str(f.get("cliproxy")) ?? "",
    shutdownGraceMs: r.int(f.get("shutdown_grace_ms"), { min: 0 }) ?? 30_000,
    state: readState(r, f, dir),
    tuning: readTuning(r, f),
    cooldownsMs,
    maxTargetRetries: r.oldInt(f.get("lb_max_target_retries"), { min: 0, max: 20 }) ?? 1,
    retryAuthOn5xx: r.bool(f.get("lb_retry_auth_on_5xx")) ?? true,
    autoUpgrade: {
      enabled: r.bool(f.get("lb_auto_upgrade_enabled")) ?? false,
      messagesThreshold: threshold("lb_auto_upgrade_messages_threshold", 80),
      toolsThreshold: threshold("lb_auto_upgrade_tools_threshold", 10),
      failureStreakThreshold: threshold("lb_auto_upgrade_failure_streak_threshold", 2),
      signatureEnabled: r.bool(f.get("lb_auto_upgrade_signature_enabled")) ?? true,
      inputTokensThreshold: r.int(f.get("lb_auto_upgrade_input_tokens_threshold"), { min: 0 }) ?? 0,
      map,
    },
    upgradeMapFields,
    maxBodyBytes: (r.int(f.get("lb_max_body_mb"), { min: 1, max: 1024 }) ?? 32) * MB,
    maxBodyMemoryBytes: (r.int(f.get("lb_max_body_memory_mb"), { min: 16, max: 65536 }) ?? 512) * MB,
    maxJsonDepth: r.int(f.get("lb_max_json_depth"), { min: 8, max: 4096 }) ?? 128,
    maxJsonElements: r.int(f.get("lb_max_json_elements"), { min: 1000 }) ?? 500_000,
    firstByteTimeoutMs: r.int(f.get("lb_first_byte_timeout_ms"), { min: 1 }) ?? 120_000,
    idleTimeoutMs: r.int(f.get("lb_idle_timeout_ms"), { min: 1 }) ?? 300_000,
    logRetentionDays: r.int(f.get("lb_log_retention_days"), { min: 1 }) ?? 90,
    defaultInstance: f.get("default_instance"),
    routerField: f.get("lb_model_router"),
  };
}

const MB = 1024 * 1024;

/** The old generator took anything but a table as no map at all; gw does too, and says so. */
function readUpgradeMap(r: Reader, f: Field | undefined): Raw {
  if (!f) return {};
  if (isTable(f.value)) return f.value;
  r.warn(f.path, `lb_auto_upgrade_map = ${describe(f.value)} is not a table, so nothing is upgraded (as the old generator did)`, 'write it as a table: [global.lb_auto_upgrade_map] with lines like "g3f.auto" = "opus4.6"');
  return {};
}

/**
 * Client keys: an empty entry is not a key, and an error. (A `${VAR}` that is empty or unset is
 * already one, said by the reader; one root cause, one error.)
 */
function readClientKeys(r: Reader, f: Field | undefined): string[] {
  const keys = r.strList(f, { secret: true }) ?? [];
  const written = (i: number) => String(Array.isArray(f!.value) ? f!.value[i] : f!.value);
  const at = (i: number) => (Array.isArray(f!.value) ? [...f!.path, i] : f!.path);
  // The request log and `gw usage --by client` tell a team's clients apart by the masked key
  // (first 6 … last 4; a short key is ***): keys shown alike pool their owners' traffic.
  const shownBy = new Map<string, { key: string; index: number }>();
  keys.forEach((k, i) => {
    if (k.trim() === "") {
      if (!written(i).includes("${")) r.error(at(i), "an empty key is not a key", "remove the entry, or write the key (better: ${NAME} with NAME in .env)");
      return;
    }
    const shown = maskSecret(k);
    const first = shownBy.get(shown);
    if (!first) shownBy.set(shown, { key: k, index: i });
    else if (first.key !== k) {
      r.warn(at(i), `this client key shows as "${shown}" in the request log and gw usage --by client, as api_keys[${first.index}] does: whose requests are whose is lost`, "give each client a random key of its own, 16 characters or more (openssl rand -hex 24)");
    }
  });
  return keys.filter((k) => k.trim() !== "");
}

/** Browser origins allowed to call gw: `scheme://host[:port]`, as browsers send them. */
function readOrigins(r: Reader, f: Field | undefined): string[] {
  const out: string[] = [];
  (r.strList(f) ?? []).forEach((o, i) => {
    const path = Array.isArray(f!.value) ? [...f!.path, i] : f!.path;
    let url: URL | undefined;
    try {
      url = new URL(o);
    } catch {}
    if (!url || !/^https?:$/.test(url.protocol) || url.origin === "null" || (url.pathname !== "/" || url.search || url.hash) || url.username || url.password) {
      r.error(path, `"${o}" is not a browser origin`, 'write scheme://host[:port] only, e.g. "https://app.example.com" or "http://localhost:3000"');
    } else out.push(url.origin);
  });
  return out;
}

/** The address the load balancer listens on: loopback when none is written. */
function readBindHost(r: Reader, f: Field | undefined): string {
  const host = r.str(f) ?? "127.0.0.1";
  const problem = bindHostProblem(host);
  if (!problem) return host;
  r.error(f!.path, problem, r.fixHint(f!, host, "an address or host name", () => 'write an address of this machine or a host name alone (no scheme or port), e.g. host = "127.0.0.1" (this machine only), "0.0.0.0" (every IPv4 interface) or "::"'));
  return "127.0.0.1";
}

/** Extra names clients may use in Host (a reverse proxy's name, an /etc/hosts alias). */
function readHostNames(r: Reader, f: Field | undefined): string[] {
  const out: string[] = [];
  (r.strList(f) ?? []).forEach((h, i) => {
    const name = h.trim().toLowerCase();
    // An IPv6 address as people write it; Host carries it in brackets (`[fd00::2]:8145`).
    if (ipVersion(name) === 6) out.push(`[${name}]`);
    else if (HOST_NAME.test(name.replace(/\.$/, "")) || /^\[[0-9a-f:.]+\]$/.test(name)) out.push(name.replace(/\.$/, ""));
    else r.error(Array.isArray(f!.value) ? [...f!.path, i] : f!.path, `"${h}" is not a host name`, 'write the name alone, without scheme or port, e.g. "gw.example.com"');
  });
  return out;
}
