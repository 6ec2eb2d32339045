import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { findConfigFile, loadConfig, parseConfig } from "../../src/config/index.ts";
import { tempFiles } from "../helpers/tmp.ts";
import { EVERY_OLD_KEY } from "./fixtures.ts";

const env = { RELAY_KEY: "sk-relay-from-env" };

describe("an old file with every old key loads unchanged", () => {
  const { config, problems } = parseConfig(EVERY_OLD_KEY, "/srv/gw/providers.toml", env);

  test("no errors; only the expected warnings", () => {
    expect(problems.filter((p) => p.severity === "error")).toEqual([]);
    const warned = problems.map((p) => p.path).sort();
    expect(warned).toEqual(["global.host", "global.quota_exceeded", "global.quota_switch_preview_model", "global.quota_switch_project"]);
  });

  test("global keys, lenient booleans and integers, dashed keys", () => {
    const g = config!.global;
    expect(g.mainPort).toBe(8145);
    expect(g.host).toBe("0.0.0.0");
    expect(g.bindHost).toBe("127.0.0.1"); // public host without api_keys
    expect(g.proxy).toBe("http://proxy.local:3128");
    expect(g.maxRetryInterval).toBe(30);
    expect(g.routingStrategy).toBe("fill-first");
    expect(g.disableCooling).toBe(false);
    expect(g.nonstreamKeepaliveInterval).toBe(10);
    // flat keys beat the [global.streaming] table
    expect(g.streaming).toEqual({ keepaliveSeconds: 20, bootstrapRetries: 2 });
    expect(g.quotaExceeded).toEqual({ switchProject: true, switchPreviewModel: false });
    expect(g.lb.cooldownsMs).toEqual({ auth: 1000, validation: 2000, quota: 3000, transient: 4000, transientHeavy: 5000, signature: 6000 });
    expect(g.lb.maxTargetRetries).toBe(2);
    expect(g.lb.retryAuthOn5xx).toBe(false);
    expect(g.lb.autoUpgrade).toEqual({
      enabled: true,
      messagesThreshold: 50,
      toolsThreshold: 12,
      failureStreakThreshold: 3,
      signatureEnabled: false,
      inputTokensThreshold: 0,
      map: { "g3f.auto": "opus4.6" },
    });
    expect(g.lb.defaultInstance).toBe("official");
    expect(g.lb.maxBodyBytes).toBe(32 * 1024 * 1024);
    expect(g.lb.firstByteTimeoutMs).toBe(120_000);
    expect(g.lb.idleTimeoutMs).toBe(300_000);
  });

  const INSTANCE = `[instances.a]\nport = 8146\nproviders = [{ type = "antigravity" }]\n`;
  test("booleans in every spelling the old generator took: y / n, an empty string (false), any number", () => {
    const file = `[global]\nmain_port = 8145\ndisable_cooling = "\${COOLING}"\nlb_retry_auth_on_5xx = "y"\nlb_auto_upgrade_enabled = 2\nlb_auto_upgrade_signature_enabled = "N"\n${INSTANCE}`;
    const { config, problems } = parseConfig(file, "/srv/gw/providers.toml", { COOLING: "" });
    expect(problems.filter((p) => p.severity === "error")).toEqual([]);
    const g = config!.global;
    expect([g.disableCooling, g.lb.retryAuthOn5xx, g.lb.autoUpgrade.enabled, g.lb.autoUpgrade.signatureEnabled]).toEqual([false, true, true, false]);
    // Anything else is still an error, with the spellings to use.
    const bad = parseConfig(`[global]\nmain_port = 8145\ndisable_cooling = "maybe"\n${INSTANCE}`, "/srv/gw/providers.toml", {}).problems;
    expect(bad.map((p) => [p.path, p.message])).toEqual([["global.disable_cooling", 'expected a boolean, got the string "maybe"']]);
  });

  test("auth_dir: a leading ~ is the home directory, as CLIProxyAPI reads its own auth-dir; other paths from the config's folder", () => {
    const file = (authDir: string) => `[global]\nmain_port = 8145\n[instances.a]\nport = 8146\nauth_dir = ${JSON.stringify(authDir)}\nproviders = [{ type = "antigravity" }]\n`;
    const dirOf = (authDir: string) => parseConfig(file(authDir), "/srv/gw/providers.toml", {}).config!.instances[0]!.authDir;
    expect([dirOf("~/.cli-proxy-api"), dirOf("~"), dirOf("shared/~x"), dirOf("/abs")]).toEqual([join(homedir(), ".cli-proxy-api"), homedir(), "/srv/gw/shared/~x", "/abs"]);
  });

  test("instances: overrides, precedence instance table > flat > global", () => {
    const [official, relay] = config!.instances;
    expect(official!.requestRetry).toBe(5);
    expect(official!.streaming).toEqual({ keepaliveSeconds: 7, bootstrapRetries: 2 });
    expect(official!.authDir).toBe("/srv/gw/auths/official");
    expect(official!.baseUrl).toBe("http://127.0.0.1:8146");
    expect(official!.managed).toBe(true);
    expect(relay!.maxRetryInterval).toBe(60);
    expect(relay!.streaming.keepaliveSeconds).toBe(11);
    expect(relay!.providers[0]!.apiKeys).toEqual(["sk-relay-from-env", "sk-second-key"]);
    expect(relay!.providers.map((p) => p.type)).toEqual(["anthropic", "openai", "gemini", "minimax"]);
  });

  test("routes: weights, ids, params", () => {
    const opus = config!.routes.get("opus4.6")!;
    expect(opus.targets.map((t) => [t.id, t.weight, t.priority])).toEqual([
      ["official/claude-opus-4-6-thinking", 80, 0],
      ["relay/anthropic/claude-opus-4.6", 20, 0],
    ]);
    expect(opus.targets[1]!.params).toMatchObject({ maxTokensMax: 24000, anthropicBeta: ["context-1m-2025-08-07", "Foo-Beta"], extraHeaders: { "X-Team": "core" } });
    expect(config!.routes.get("g3p")!.targets[0]!.params).toMatchObject({ reasoningEffort: "high", thinkingBudgetMax: 24576, maxTokensDefault: 8000, thinkingLevel: "high" });
    expect([...config!.routes.keys()]).toEqual(["opus4.6", "g3f", "g3f.auto", "g3p", "mm", "gpt"]);
    expect(config!.cld.scenarios.Performance).toEqual({ main: "opus4.6", fast: "g3f", opus: "opus4.6" });
  });

  test("the config is frozen", () => {
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config!.global.lb.cooldownsMs)).toBe(true);
    expect(Object.isFrozen(config!.instances[0]!.providers[0])).toBe(true);
  });
});

test('host = "localhost" binds 127.0.0.1: where localhost is ::1 first, a listener there refused 127.0.0.1 (cld, nginx)', () => {
  const { config, problems } = parseConfig(`[global]\nhost = "localhost"\nmain_port = 9000\n[instances.a]\nport = 9001\nproviders = [{ type = "claude" }]\n`, "/cfg/providers.toml");
  expect(problems).toEqual([]);
  expect([config!.global.host, config!.global.bindHost]).toEqual(["localhost", "127.0.0.1"]);
});

describe("gw's new keys", () => {
  test("url instances, command, auth_dir, priority, api_keys keep a public host", () => {
    const { config, problems } = parseConfig(
      `[global]
host = "0.0.0.0"
main_port = 9000
api_keys = ["client-key-1"]
default_instance = "remote"
cliproxy = "./bin/cpa"
lb_first_byte_timeout_ms = 5000
lb_max_body_mb = 2
[instances.local]
port = 9001
command = ["./cpa", "-config", "{config}"]
auth_dir = "shared-auths"
providers = [{ type = "claude" }]
[instances.remote]
url = "http://10.0.0.5:8317/"
api_key = "remote-secret"
providers = [{ type = "codex" }]
[routing]
"m" = [{ instance = "local", provider = "claude", model = "x", priority = 2, first_byte_timeout_ms = 900 }, { instance = "remote", provider = "codex", model = "y", context_window = 131072 }]
[cld.scenarios.Only]
main = "m"
fast = "m"
opus = "m"
[pricing]
"m" = { input = 3, output = 15 }
`,
      "/cfg/providers.toml",
    );
    expect(problems).toEqual([]);
    const c = config!;
    expect(c.global.bindHost).toBe("0.0.0.0");
    expect(c.global.apiKeys).toEqual(["client-key-1"]);
    expect(c.global.lb.defaultInstance).toBe("remote");
    expect(c.global.lb.maxBodyBytes).toBe(2 * 1024 * 1024);
    expect(c.instances[0]!.command).toEqual(["./cpa", "-config", "{config}"]);
    expect(c.instances[0]!.authDir).toBe("/cfg/shared-auths");
    expect(c.instances[1]).toMatchObject({ managed: false, baseUrl: "http://10.0.0.5:8317", port: 8317, apiKey: "remote-secret" });
    expect(c.routes.get("m")!.targets[0]).toMatchObject({ priority: 2, firstByteTimeoutMs: 900 });
    expect(c.routes.get("m")!.targets[1]).toMatchObject({ contextWindow: 131072 });
    expect(c.cld.scenarios).toEqual({ Only: { main: "m", fast: "m", opus: "m" } });
    expect(c.pricing.m).toEqual({ input: 3, output: 15, cacheRead: undefined, cacheWrite: undefined });
  });
});

describe("loading from disk", () => {
  test(".env beside the file overrides the environment", async () => {
    const dir = tempFiles({
      "providers.toml": `[global]\nmain_port = 8145\n[instances.a]\nport = 8146\nproviders = [{ type = "anthropic", api_keys = ["\${K}"] }]\n`,
      ".env": `# comment\nexport K="from-dotenv"\n`,
    });
    const { config } = await loadConfig(join(dir, "providers.toml"), { env: { K: "from-env" } });
    expect(config!.instances[0]!.providers[0]!.apiKeys).toEqual(["from-dotenv"]);
  });

  test("findConfigFile: -c, then ./providers.toml, then $GW_CONFIG", () => {
    const dir = tempFiles({ "x.toml": "" });
    expect(findConfigFile("rel.toml", {})).toBe(join(process.cwd(), "rel.toml"));
    expect(findConfigFile(undefined, { GW_CONFIG: join(dir, "x.toml") })).toBe(join(dir, "x.toml"));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      writeFileSync(join(dir, "providers.toml"), "");
      expect(findConfigFile(undefined, { GW_CONFIG: "/elsewhere.toml" })).toBe(join(dir, "providers.toml"));
    } finally {
      process.chdir(cwd);
    }
  });

  test("a missing file is one problem, not a throw", async () => {
    const { config, problems } = await loadConfig("/nonexistent/providers.toml");
    expect(config).toBeNull();
    expect(problems[0]!.message).toBe("file not found");
  });
});
