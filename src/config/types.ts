// The one typed, frozen, fully defaulted view of providers.toml that the rest of gw reads.
// Nothing outside src/config/ sees raw TOML or reads settings from process.env.

/** Provider types an instance may define; the OAuth ones write nothing to YAML. */
export const OAUTH_PROVIDERS = ["antigravity", "codex", "claude", "kimi", "xai"] as const;
export const KEY_PROVIDERS = ["anthropic", "openai", "gemini", "minimax"] as const;
export type ProviderType = (typeof OAUTH_PROVIDERS)[number] | (typeof KEY_PROVIDERS)[number];

export interface ProviderConfig {
  readonly type: ProviderType;
  /** Position in the instance's `providers` array (names openai-compatibility entries). */
  readonly index: number;
  readonly baseUrl: string;
  readonly apiKeys: readonly string[];
}

export interface StreamingConfig {
  readonly keepaliveSeconds?: number;
  readonly bootstrapRetries?: number;
}

export interface QuotaExceededConfig {
  readonly switchProject?: boolean;
  readonly switchPreviewModel?: boolean;
}

/** Settings that [global] provides and an instance may override (old keys, CLIProxyAPI's YAML). */
export interface InstanceTuning {
  readonly proxy: string;
  readonly requestRetry: number;
  readonly maxRetryInterval: number;
  readonly routingStrategy?: string;
  readonly disableCooling?: boolean;
  readonly nonstreamKeepaliveInterval?: number;
  /** CLIProxyAPI's own request log (`request-log`); unset = not written. */
  readonly requestLog?: boolean;
  /** Cap of CLIProxyAPI's log directory (`logs-max-total-size-mb`); unset = not written. */
  readonly logsMaxTotalSizeMb?: number;
  /**
   * CLIProxyAPI's `passthrough-headers`, written always (true unless set). Only with it does its
   * 429 "all credentials cooling down" say when it ends on /v1/messages (a Retry-After header: its
   * Claude handler drops the body's reset_seconds), and gw cools the target that long instead of
   * lb_transient_heavy_cooldown_ms. It passes the upstream's headers on too (lb/headers.ts drops
   * the ones that name an account).
   */
  readonly passthroughHeaders: boolean;
  readonly streaming: StreamingConfig;
  readonly quotaExceeded: QuotaExceededConfig;
}

export interface InstanceConfig extends InstanceTuning {
  readonly name: string;
  /** Port the instance listens on (for an external instance: the port of its url). */
  readonly port: number;
  /** Where the LB reaches it, without a trailing slash: `url`, or http://127.0.0.1:port. */
  readonly baseUrl: string;
  /** False for an instance given by `url`: gw neither writes its YAML nor starts it. */
  readonly managed: boolean;
  /**
   * Key the LB presents to the instance. For an external instance its `api_key`; for a managed
   * one the generated key from `.gw/keys.json` ("" until `withInstanceKeys` filled it in).
   */
  readonly apiKey: string;
  /** Launch command override with `{config}` and `{port}` still in it; empty = the CLIProxyAPI binary. */
  readonly command: readonly string[];
  /**
   * The same before `${VAR}` substitution: what logs/NAME.log shows when the instance starts, so
   * a secret passed as `${VAR}` appears as its name, never as its value.
   */
  readonly commandAsWritten: readonly string[];
  /** Absolute path of the instance's auth directory. */
  readonly authDir: string;
  readonly providers: readonly ProviderConfig[];
}

export interface RouteParams {
  readonly reasoningEffort?: string;
  readonly thinkingBudgetMax?: number;
  readonly maxTokensMax?: number;
  readonly maxTokensDefault?: number;
  /** Beta flags to merge into `anthropic-beta`, already split on commas and trimmed. */
  readonly anthropicBeta: readonly string[];
  readonly extraHeaders: Readonly<Record<string, string>>;
  readonly thinkingLevel?: string;
}

export interface Target {
  /** Stable identity within the route: `instance/model`, with `#N` appended if repeated. */
  readonly id: string;
  readonly instance: string;
  readonly provider: ProviderType | "";
  /** Model name sent upstream. */
  readonly model: string;
  readonly weight: number;
  /** Higher tiers are tried first; weights choose within a tier. */
  readonly priority: number;
  readonly params: RouteParams;
  /** Overrides [global] lb_first_byte_timeout_ms for attempts on this target. */
  readonly firstByteTimeoutMs?: number;
  /** `context_window`: the upstream model's window in tokens, overriding the catalogue. */
  readonly contextWindow?: number;
}

export interface Route {
  readonly name: string;
  readonly targets: readonly Target[];
}

export interface CooldownsMs {
  readonly auth: number;
  readonly validation: number;
  readonly quota: number;
  readonly transient: number;
  readonly transientHeavy: number;
  readonly signature: number;
}

export interface AutoUpgradeConfig {
  readonly enabled: boolean;
  readonly messagesThreshold: number;
  readonly toolsThreshold: number;
  readonly failureStreakThreshold: number;
  readonly signatureEnabled: boolean;
  /** 0 = off; otherwise upgrade when the local input-token estimate reaches it. */
  readonly inputTokensThreshold: number;
  /** Source route → upgraded route. */
  readonly map: Readonly<Record<string, string>>;
}

/** Numeric comparisons of signals and conditions. */
export type CompareOp = "<=" | ">=" | "==" | "!=" | "<" | ">";

/** A category signal (`type:value`), compiled once at load. */
export type SignalTest =
  /** `keyword:<regex>`: case-insensitive on last_user_text; null = did not compile (never matches). */
  | { readonly kind: "keyword"; readonly re: RegExp | null }
  /** `task_category:x`, `tool_profile:x`: equality, case-insensitive (value lower-cased here). */
  | { readonly kind: "equals"; readonly factor: "task_category" | "tool_profile"; readonly value: string }
  | { readonly kind: "code"; readonly value: boolean }
  /** `system_prompt_type:tag` / `system_tag:tag`: the tag is among the system prompt's tags. */
  | { readonly kind: "tag"; readonly value: string }
  | { readonly kind: "compare"; readonly factor: "messages_count" | "prompt_chars"; readonly op: CompareOp; readonly n: number }
  | { readonly kind: "never" };

export interface RouterSignal {
  /** As written, e.g. `task_category:coding` (the log names the signal that matched). */
  readonly text: string;
  readonly test: SignalTest;
}

export interface RouterCategory {
  readonly name: string;
  readonly priority: number;
  /** Route name; a category whose target is no route is passed over. */
  readonly target: string;
  readonly signals: readonly RouterSignal[];
}

export interface RouterCondition {
  /** Factor name; undefined when the condition names none (it never matches). */
  readonly field?: string;
  readonly op: string;
  readonly value: unknown;
  /** For op `regex`: the compiled value (null when it is no string or does not compile). */
  readonly re?: RegExp | null;
}

export interface RouterRule {
  readonly name: string;
  readonly priority: number;
  readonly target: string;
  readonly match: "all" | "any";
  readonly when: readonly RouterCondition[];
}

/** `[global.lb_model_router]` (model-router.md), with `config_file` merged in. */
export interface RouterConfig {
  readonly enabled: boolean;
  /** Decide and log, never rewrite. */
  readonly shadowOnly: boolean;
  /** Models the router replaces (default ["auto"]); others pass untouched. */
  readonly activationModels: ReadonlySet<string>;
  readonly defaultModel?: string;
  readonly logFactors: boolean;
  /** Highest priority first (file order among equals). */
  readonly categories: readonly RouterCategory[];
  /** Highest priority first (file order among equals); rules without a target are dropped. */
  readonly rules: readonly RouterRule[];
}

export interface LbConfig {
  readonly cooldownsMs: CooldownsMs;
  readonly maxTargetRetries: number;
  readonly retryAuthOn5xx: boolean;
  readonly autoUpgrade: AutoUpgradeConfig;
  readonly maxBodyBytes: number;
  /** Request bodies in flight together (raw and parsed, estimated): beyond it requests get 503. */
  readonly maxBodyMemoryBytes: number;
  /** Deepest nesting of arrays and objects a JSON body may have. */
  readonly maxJsonDepth: number;
  /** Most values (array elements, object members) a JSON body may hold. */
  readonly maxJsonElements: number;
  readonly firstByteTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly logRetentionDays: number;
  /** Instance that gets requests for models no route names. */
  readonly defaultInstance: string;
  /** True when [global] default_instance names it (else it is the first instance). */
  readonly defaultInstanceSet?: boolean;
  /** Undefined when the file has no `[global.lb_model_router]`. */
  readonly router?: RouterConfig;
}

/** Where the LB's state lives (`[global] state`, `$GW_STATE`). */
export type StateConfig =
  /** Nothing outlives the process. */
  | { readonly kind: "memory" }
  /** SQLite file (`.gw/state.db` beside the config). */
  | { readonly kind: "local"; readonly file: string }
  /** Shared by every gw with the same URL and prefix. `url` may hold a password: show describeState(). */
  | { readonly kind: "redis"; readonly url: string; readonly prefix: string };

export interface GlobalConfig extends InstanceTuning {
  /** `host` as written; 127.0.0.1 when the file has none. */
  readonly host: string;
  /** Address the LB really binds: `host`, or 127.0.0.1 when `host` is public and `api_keys` is empty. */
  readonly bindHost: string;
  readonly mainPort: number;
  /** Keys clients must present to the LB; empty = none required. */
  readonly apiKeys: readonly string[];
  /** Key that opens /metrics and /_gw/ to non-loopback clients ("" = loopback only). */
  readonly adminKey: string;
  /** Browser origins (`scheme://host[:port]`) allowed to call gw; none by default. */
  readonly corsOrigins: readonly string[];
  /** Host names clients may use besides the loopback names and `host` (lower case, no port). */
  readonly allowedHosts: readonly string[];
  /** `[global] cliproxy` as written (resolved to a path by cliproxy/locate.ts findCliproxy), or "" when unset. */
  readonly cliproxy: string;
  /** Grace period for streams in flight when gw stops. */
  readonly shutdownGraceMs: number;
  readonly state: StateConfig;
  readonly lb: LbConfig;
}

export interface Scenario {
  readonly main: string;
  readonly fast: string;
  readonly opus: string;
}

export interface CldConfig {
  /** Scenario name → roles; insertion order is menu order. */
  readonly scenarios: Readonly<Record<string, Scenario>>;
}

export interface Price {
  /** USD per million tokens; undefined = unknown. */
  readonly input?: number;
  readonly output?: number;
  readonly cacheRead?: number;
  readonly cacheWrite?: number;
}

export interface Config {
  /** Absolute path of the file this came from. */
  readonly file: string;
  /** Other files it read (the router's `config_file`): a reload watches them too. */
  readonly includes?: readonly string[];
  /** Directory beside the file: instances/, logs/, auths/ and .gw/ live here. */
  readonly dir: string;
  readonly global: GlobalConfig;
  /** In file order. */
  readonly instances: readonly InstanceConfig[];
  /** Route name → route, in file order. */
  readonly routes: ReadonlyMap<string, Route>;
  readonly cld: CldConfig;
  /** Route or upstream model name → price. */
  readonly pricing: Readonly<Record<string, Price>>;
}

export type Severity = "error" | "warning";

/** One finding of the loader; `gw check` prints each as `FILE:LINE:COL  path  message  (hint)`. */
export interface Problem {
  readonly severity: Severity;
  readonly file: string;
  /** 1-based; 0 when the problem has no place in the file. */
  readonly line: number;
  readonly col: number;
  /** Dotted key path, e.g. `routing."opus4.6"[1].weight`. */
  readonly path: string;
  readonly message: string;
  readonly hint?: string;
  /** The instance whose table it is in (`[instances.NAME]`), when it is in one. */
  readonly instance?: string;
}

export interface LoadResult {
  /** Null when any error was found. */
  readonly config: Config | null;
  readonly problems: readonly Problem[];
}
