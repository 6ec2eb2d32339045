// Config-shaped objects for the pure LB policy tests (route, classify, session, upgrade), built
// without the TOML loader so a test states only what it is about.

import { parseConfig } from "../../src/config/index.ts";
import type { AutoUpgradeConfig, Config, LbConfig, Route, Target } from "../../src/config/types.ts";

export function target(id: string, over: Partial<Target> = {}): Target {
  const [instance = id, model = id] = id.split("/");
  return {
    id,
    instance,
    provider: "antigravity",
    model,
    weight: 1,
    priority: 0,
    params: { anthropicBeta: [], extraHeaders: {} },
    ...over,
  };
}

export function route(name: string, targets: readonly (Partial<Target> & { id: string })[]): Route {
  return { name, targets: targets.map((t) => target(t.id, t)) };
}

/** The defaults of providers-toml.md's table. */
export const LB_DEFAULTS: LbConfig = {
  cooldownsMs: {
    auth: 300_000,
    validation: 43_200_000,
    quota: 43_200_000,
    transient: 60_000,
    transientHeavy: 120_000,
    signature: 120_000,
  },
  maxTargetRetries: 1,
  retryAuthOn5xx: true,
  autoUpgrade: {
    enabled: false,
    messagesThreshold: 80,
    toolsThreshold: 10,
    failureStreakThreshold: 2,
    signatureEnabled: true,
    inputTokensThreshold: 0,
    map: {},
  },
  maxBodyBytes: 64 << 20,
  maxBodyMemoryBytes: 512 << 20,
  maxJsonDepth: 128,
  maxJsonElements: 500_000,
  firstByteTimeoutMs: 120_000,
  idleTimeoutMs: 300_000,
  logRetentionDays: 90,
  defaultInstance: "",
};

export function lbConfig(over: Partial<LbConfig> = {}, upgrade: Partial<AutoUpgradeConfig> = {}): LbConfig {
  return { ...LB_DEFAULTS, ...over, autoUpgrade: { ...LB_DEFAULTS.autoUpgrade, ...upgrade } };
}

/** A Config with only what the LB policies read: routes (in order) and [global].lb. */
export function config(routes: readonly Route[], lb: LbConfig = LB_DEFAULTS): Config {
  return {
    file: "/tmp/providers.toml",
    dir: "/tmp",
    global: {
      host: "127.0.0.1",
      bindHost: "127.0.0.1",
      mainPort: 8145,
      apiKeys: [],
      adminKey: "",
      corsOrigins: [],
      allowedHosts: [],
      cliproxy: "",
      shutdownGraceMs: 10_000,
      state: { kind: "memory" },
      proxy: "",
      requestRetry: 3,
      maxRetryInterval: 30,
      passthroughHeaders: true,
      streaming: {},
      quotaExceeded: {},
      lb,
    },
    instances: [],
    routes: new Map(routes.map((r) => [r.name, r])),
    cld: { scenarios: {} },
    pricing: {},
  };
}

/** Deterministic [0,1) generator (mulberry32) so statistical tests are repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Config from providers.toml text through the real loader; throws on any error problem. */
export function fromToml(text: string, env: Record<string, string> = {}): Config {
  const { config: cfg, problems } = parseConfig(text, "/tmp/gw-policy-test/providers.toml", env);
  const errors = problems.filter((p) => p.severity === "error");
  if (!cfg || errors.length) throw new Error(`test config invalid: ${errors.map((p) => `${p.path} ${p.message}`).join("; ")}`);
  return cfg;
}
