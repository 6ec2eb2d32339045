// Values the old generator (or its lb.js) took and quietly moved or skipped: gw loads the file,
// uses what the old tool used, and warns at the value's line with what to write instead.
// Values the old tool failed on stay errors.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import type { Problem } from "../../src/config/types.ts";
import { runGw, tempFiles } from "../helpers/tmp.ts";

const file = (global: string, instance = "", params = "") => `[global]
main_port = 8145
${global}
[instances.a]
port = 8146
${instance}
providers = [{ type = "antigravity" }]
[routing]
"m" = [{ instance = "a", provider = "antigravity", model = "x"${params ? `, params = { ${params} }` : ""} }]
"m.auto" = [{ instance = "a", provider = "antigravity", model = "y" }]
`;
const load = (text: string) => parseConfig(text, "/x/providers.toml", {});
const brief = (ps: readonly Problem[]) => ps.map((p) => `${p.line}:${p.col} ${p.severity}: ${p.message} (${p.hint})`);

describe("[global] numbers the old generator clamped", () => {
  const cases: [string, (c: NonNullable<ReturnType<typeof load>["config"]>) => number, number, string][] = [
    ["lb_auto_upgrade_messages_threshold = 0", (c) => c.global.lb.autoUpgrade.messagesThreshold, 1, "lb_auto_upgrade_messages_threshold = 0 is below 1; using 1, as the old generator did (write lb_auto_upgrade_messages_threshold = 1)"],
    ['lb_auto_upgrade_tools_threshold = "-3"', (c) => c.global.lb.autoUpgrade.toolsThreshold, 1, 'lb_auto_upgrade_tools_threshold = "-3" is below 1; using 1, as the old generator did (write lb_auto_upgrade_tools_threshold = 1)'],
    ["lb_auto_upgrade_failure_streak_threshold = false", (c) => c.global.lb.autoUpgrade.failureStreakThreshold, 1, "lb_auto_upgrade_failure_streak_threshold = false is not a number and is below 1; using 1, as the old generator did (write lb_auto_upgrade_failure_streak_threshold = 1)"],
    ["lb_max_target_retries = -1", (c) => c.global.lb.maxTargetRetries, 0, "lb_max_target_retries = -1 is below 0; using 0, as the old generator did (write lb_max_target_retries = 0)"],
    ["lb_max_target_retries = 2.9", (c) => c.global.lb.maxTargetRetries, 2, "lb_max_target_retries = 2.9 is not a whole number; using 2, as the old generator did (write lb_max_target_retries = 2)"],
    // The old LB set no cooldown for a value ≤ 0.
    ["lb_auth_cooldown_ms = -1000", (c) => c.global.lb.cooldownsMs.auth, 0, "lb_auth_cooldown_ms = -1000 is below 0; using 0, as the old generator did (write lb_auth_cooldown_ms = 0)"],
    ["lb_transient_cooldown_ms = 60000.5", (c) => c.global.lb.cooldownsMs.transient, 60000, "lb_transient_cooldown_ms = 60000.5 is not a whole number; using 60000, as the old generator did (write lb_transient_cooldown_ms = 60000)"],
    // Above gw's own limit (retries beyond a route's other targets change nothing): gw's limit, said as such.
    ["lb_max_target_retries = 50", (c) => c.global.lb.maxTargetRetries, 20, "lb_max_target_retries = 50 is above gw's limit 20; using 20 (write lb_max_target_retries = 20)"],
  ];
  for (const [line, get, used, said] of cases) {
    test(`${line} → ${used}`, () => {
      const { config, problems } = load(file(line));
      expect(brief(problems)).toEqual([`3:1 warning: ${said}`]);
      expect(get(config!)).toBe(used);
    });
  }

  test("the retry and keepalive numbers of the instance YAML: max(0, …) per instance and in [global]", () => {
    const text = file("request_retry = -2\n[global.streaming]\nbootstrap_retries = -1", "max_retry_interval = -30\nnonstream_keepalive_interval = 2.5\nstreaming_keepalive_seconds = \"-5\"");
    const { config, problems } = load(text);
    expect(problems.map((p) => [p.path, p.line, p.severity])).toEqual([
      ["global.request_retry", 3, "warning"],
      ["global.streaming.bootstrap_retries", 5, "warning"],
      ["instances.a.max_retry_interval", 8, "warning"],
      ["instances.a.nonstream_keepalive_interval", 9, "warning"],
      ["instances.a.streaming_keepalive_seconds", 10, "warning"],
    ]);
    const a = config!.instances[0]!;
    expect([a.requestRetry, a.maxRetryInterval, a.nonstreamKeepaliveInterval, a.streaming]).toEqual([0, 0, 2, { keepaliveSeconds: 0, bootstrapRetries: 0 }]);
  });

  test('routing_strategy = "" (an empty ${VAR}) writes no strategy, as the old generator did', () => {
    const { config, problems } = load(file('routing_strategy = ""'));
    expect(problems).toMatchObject([{ severity: "warning", path: "global.routing_strategy", line: 3 }]);
    expect(config!.instances[0]!.routingStrategy).toBeUndefined();
    // An instance's empty one beats the global strategy too (per-instance values beat global ones).
    const mixed = load(file('routing_strategy = "fill-first"', 'routing_strategy = ""'));
    expect(mixed.problems).toMatchObject([{ severity: "warning", path: "instances.a.routing_strategy" }]);
    expect(mixed.config!.instances[0]!.routingStrategy).toBeUndefined();
    expect(load(file('routing_strategy = "fill-first"')).config!.instances[0]!.routingStrategy).toBe("fill-first");
  });

  test("lb_auto_upgrade_map that is no table: no map, as the old generator did", () => {
    const { config, problems } = load(file('lb_auto_upgrade_map = "m.auto=m"'));
    expect(problems).toMatchObject([{ severity: "warning", path: "global.lb_auto_upgrade_map", line: 3 }]);
    expect(Object.keys(config!.global.lb.autoUpgrade.map)).toEqual([]);
  });

  test("what the old generator failed on (int('soon'), a list) is still an error at its place", () => {
    for (const bad of ['lb_auth_cooldown_ms = "soon"', "lb_auto_upgrade_messages_threshold = [1]", 'request_retry = "3.5"', "lb_max_target_retries = { n = 1 }"]) {
      const { config, problems } = load(file(bad));
      expect(config).toBeNull();
      expect(problems).toMatchObject([{ severity: "error", line: 3, col: 1 }]);
    }
  });
});

describe("route params the old LB skipped unless a positive number", () => {
  test("0, negative or not a number: ignored with a warning; a fraction is cut off", () => {
    const text = file("", "", 'max_tokens_max = 0, thinking_budget_max = 2.5, max_tokens_default = "lots"');
    const { config, problems } = load(text);
    const at = (key: string) => `9:${text.split("\n")[8]!.indexOf(key) + 1}`;
    expect(brief(problems)).toEqual([
      `${at("max_tokens_max")} warning: max_tokens_max = 0 is not a positive number, so it is ignored (as the old LB did) (remove max_tokens_max, or give it a whole number of at least 1)`,
      `${at("thinking_budget_max")} warning: thinking_budget_max = 2.5 is not a whole number; using 2, as the old LB did (write thinking_budget_max = 2)`,
      `${at("max_tokens_default")} warning: max_tokens_default = "lots" is not a number, so it is ignored (as the old LB did) (remove max_tokens_default, or give it a whole number of at least 1)`,
    ]);
    const p = config!.routes.get("m")!.targets[0]!.params;
    expect([p.maxTokensMax, p.thinkingBudgetMax, p.maxTokensDefault]).toEqual([undefined, 2, undefined]);
  });

  test('"24000" is a number, as Number() took it', () => {
    const { config, problems } = load(file("", "", 'max_tokens_max = "24000"'));
    expect(problems).toEqual([]);
    expect(config!.routes.get("m")!.targets[0]!.params.maxTokensMax).toBe(24000);
  });
});

// The old tool expanded ${VAR} in every string of the file before reading any value, so a number
// may come from .env too: a target's weight, a router rule's priority.
describe("${VAR} in a number the old tool read after expanding it", () => {
  test('weight = "${W}" and priority = "${P}" are the numbers .env gives', () => {
    const text = `${file("")}[global.lb_model_router]\nenabled = true\n[[global.lb_model_router.rules]]\npriority = "\${P}"\ntarget_model = "m"\n`.replace('model = "y" }', 'model = "y", weight = "${W}" }');
    const { config, problems } = parseConfig(text, "/x/providers.toml", { W: "3", P: "400" });
    expect(problems).toEqual([]);
    expect(config!.routes.get("m.auto")!.targets[0]!.weight).toBe(3);
    expect(config!.global.lb.router!.rules[0]!.priority).toBe(400);
  });
});

// The old tool wrote reasoning_effort top-level whatever the API; Anthropic's Messages API has no
// such field and CLIProxyAPI reads none from a Claude body, so Claude Code's requests got nothing.
describe("reasoning_effort, which Anthropic's API has no field for", () => {
  test("alone: a warning that Anthropic requests get nothing from it, naming thinking_level", () => {
    const text = file("", "", 'reasoning_effort = "high"');
    const { config, problems } = load(text);
    expect(brief(problems)).toEqual([
      `9:${text.split("\n")[8]!.indexOf("reasoning_effort") + 1} warning: reasoning_effort does nothing for Anthropic /v1/messages requests (Claude Code's): that API has no effort field (add thinking_level, CLIProxyAPI's model suffix, which sets the level in every API)`,
    ]);
    expect(config!.routes.get("m")!.targets[0]!.params.reasoningEffort).toBe("high");
  });

  test("with thinking_level beside it: no warning", () => {
    expect(load(file("", "", 'reasoning_effort = "high", thinking_level = "high"')).problems).toEqual([]);
  });

  test("a level above the route's own thinking_budget_max: a warning naming the level that fits (only a client's level is clamped)", () => {
    // The old format's own example: high is 24576, within 24576.
    expect(load(file("", "", 'reasoning_effort = "high", thinking_level = "high", thinking_budget_max = 24576')).problems).toEqual([]);
    const { config, problems } = load(file("", "", 'reasoning_effort = "xhigh", thinking_level = "HIGH", thinking_budget_max = 8192'));
    expect(problems.map((p) => [p.severity, p.message, p.hint])).toEqual([
      ["warning", 'reasoning_effort "xhigh" asks for a thinking budget of 32768, above this route\'s own thinking_budget_max of 8192, and goes out as written', 'lower reasoning_effort to "medium", or raise thinking_budget_max'],
      ["warning", 'thinking_level "HIGH" asks for a thinking budget of 24576, above this route\'s own thinking_budget_max of 8192, and goes out as written', 'lower thinking_level to "medium", or raise thinking_budget_max'],
    ]);
    expect(config!.routes.get("m")!.targets[0]!.params).toMatchObject({ reasoningEffort: "xhigh", thinkingLevel: "HIGH", thinkingBudgetMax: 8192 });
  });
});

describe("gw check on such a file", () => {
  test("loads it, prints FILE:LINE:COL with what gw uses; --strict still fails", async () => {
    const dir = tempFiles({ "providers.toml": file("lb_auto_upgrade_messages_threshold = 0\nlb_max_target_retries = -1") });
    const r = await runGw(["check", "-c", join(dir, "providers.toml")]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("providers.toml:3:1  global.lb_auto_upgrade_messages_threshold  warning: lb_auto_upgrade_messages_threshold = 0 is below 1; using 1, as the old generator did");
    expect(r.stderr).toContain("providers.toml:4:1  global.lb_max_target_retries  warning: lb_max_target_retries = -1 is below 0; using 0");
    expect(r.stderr).toContain("write lb_max_target_retries = 0");
    expect((await runGw(["check", "--strict", "-c", join(dir, "providers.toml")])).code).toBe(1);
  });
});
