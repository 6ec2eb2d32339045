// `gw check` on [global.lb_model_router]: every problem at its FILE:LINE:COL, what the old LB
// silently skipped as a warning (the file keeps working), and config_file merged with its own
// problems reported against itself.
import { describe, expect, test } from "bun:test";
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import type { Problem } from "../../src/config/types.ts";
import { runGw, tempDir } from "../helpers/tmp.ts";

const BASE = `[global]
main_port = 8145
host = "127.0.0.1"
[instances.a]
port = 8146
providers = [{ type = "anthropic", api_keys = ["k"] }]
[routing]
"sonnet4.6" = [{ instance = "a", provider = "anthropic", model = "claude-sonnet-4-6" }]
"opus4.6" = [{ instance = "a", provider = "anthropic", model = "claude-opus-4-6" }]
`;

const parse = (extra: string, file = "/x/providers.toml", read?: (p: string) => string | null) =>
  parseConfig(BASE + extra, file, {}, { readInclude: read ?? (() => null) });
const lineOf = (extra: string, needle: string) => (BASE + extra).split("\n").findIndex((l) => l.includes(needle)) + 1;
const brief = (ps: readonly Problem[]) => ps.map((p) => `${p.line} ${p.path} ${p.severity}: ${p.message}`);

describe("reading the router table", () => {
  test("defaults: disabled, activation [auto], log_factors on; categories and rules sorted by priority", () => {
    const extra = `[global.lb_model_router]
[[global.lb_model_router.categories]]
name = "low"
priority = 1
target_model = "sonnet4.6"
signals = ["task_category:coding"]
[[global.lb_model_router.categories]]
name = "high"
priority = "9"
target_model = "opus4.6"
signals = ["task_category:architecture"]
[[global.lb_model_router.rules]]
target_model = "opus4.6"
`;
    const { config, problems } = parse(extra);
    expect(problems).toEqual([]);
    const router = config!.global.lb.router!;
    expect(router).toMatchObject({ enabled: false, shadowOnly: false, logFactors: true });
    expect([...router.activationModels]).toEqual(["auto"]);
    expect(router.categories.map((c) => c.name)).toEqual(["high", "low"]);
    expect(router.rules.map((r) => [r.name, r.match, r.when.length])).toEqual([["rule_1", "all", 0]]);
  });

  test("no table: no router at all (every request skips it)", () => {
    expect(parse("").config!.global.lb.router).toBeUndefined();
  });

  test("loose booleans as in the rest of the old format", () => {
    const { config } = parse(`[global.lb_model_router]\nenabled = "yes"\nshadow_only = "on"\nlog_factors = 0\n`);
    expect(config!.global.lb.router).toMatchObject({ enabled: true, shadowOnly: true, logFactors: false });
  });
});

describe("what the old LB skipped is warned, at its line", () => {
  test("a target_model that is no route, an unknown op, a field that is no factor, a bad regex", () => {
    const extra = `[global.lb_model_router]
enabled = true
default_model = "M2.5"
[[global.lb_model_router.categories]]
name = "coding"
target_model = "sonet4.6"
signals = ["keyword:(unclosed", "task_category:codding", "tool_profil:coding"]
[[global.lb_model_router.rules]]
name = "big"
target_model = "opus4.6"
[[global.lb_model_router.rules.when]]
field = "mesages_count"
op = ">="
value = 50
[[global.lb_model_router.rules.when]]
field = "last_user_text"
op = "matches"
value = "x"
[[global.lb_model_router.rules.when]]
field = "last_user_text"
op = "regex"
value = "[a-"
`;
    const { config, problems } = parse(extra);
    expect(config).not.toBeNull(); // warnings only: the file keeps working as it did
    expect(problems.every((p) => p.severity === "warning")).toBe(true);
    expect(brief(problems)).toEqual([
      `${lineOf(extra, 'default_model = "M2.5"')} global.lb_model_router.default_model warning: default_model "M2.5" is not a route; requests nothing matched keep their model`,
      `${lineOf(extra, '"sonet4.6"')} global.lb_model_router.categories[0].target_model warning: category "coding": target_model "sonet4.6" is not a route, so it is passed over`,
      expect.stringMatching(new RegExp(`^${lineOf(extra, "(unclosed")} global\\.lb_model_router\\.categories\\[0\\]\\.signals\\[0\\] warning: signal "keyword:\\(unclosed" never matches: the regex does not compile`)),
      `${lineOf(extra, "(unclosed")} global.lb_model_router.categories[0].signals[1] warning: signal "task_category:codding" never matches: "codding" is not a task_category value`,
      `${lineOf(extra, "(unclosed")} global.lb_model_router.categories[0].signals[2] warning: signal "tool_profil:coding" never matches: unknown type "tool_profil"`,
      `${lineOf(extra, "mesages_count")} global.lb_model_router.rules[0].when[0].field warning: "mesages_count" is no factor: the field is always missing`,
      `${lineOf(extra, '"matches"')} global.lb_model_router.rules[0].when[1].op warning: unknown op "matches", so this condition never matches`,
      expect.stringMatching(new RegExp(`^${lineOf(extra, '"[a-"')} global\\.lb_model_router\\.rules\\[0\\]\\.when\\[2\\]\\.value warning: the regex does not compile`)),
    ]);
    expect(problems.find((p) => p.message.includes("sonet4.6"))!.hint).toBe('did you mean "sonnet4.6"?');
    expect(problems.find((p) => p.message.includes("mesages_count"))!.hint).toBe('did you mean "messages_count"?');
    // Still in the rule book, never matching — the trace will say why.
    expect(config!.global.lb.router!.rules[0]!.when.map((c) => c.op)).toEqual([">=", "matches", "regex"]);
  });

  test("a misspelled key in a rule is an error naming the key meant (and only that); a rule without target_model is dropped", () => {
    const typo = `[global.lb_model_router]
[[global.lb_model_router.rules]]
name = "r"
target_modle = "opus4.6"
`;
    const misspelled = parse(typo);
    expect(brief(misspelled.problems)).toEqual([
      `${lineOf(typo, "target_modle")} global.lb_model_router.rules[0].target_modle error: unknown key "target_modle" — did you mean "target_model"?`,
    ]);
    expect(misspelled.config).toBeNull();
    const none = `[global.lb_model_router]
[[global.lb_model_router.rules]]
name = "r"
`;
    const { config, problems } = parse(none);
    expect(brief(problems)).toEqual([`${lineOf(none, "[[global.lb_model_router.rules]]")} global.lb_model_router.rules[0] warning: rule "r" has no target_model and is dropped`]);
    expect(config!.global.lb.router!.rules).toEqual([]);
  });

  test("a condition that is no table never matches, so its rule does not match every request; a single [rules.when] table is named as it should be written", () => {
    const strings = `[global.lb_model_router]
enabled = true
[[global.lb_model_router.rules]]
name = "huge"
target_model = "opus4.6"
when = ["messages_count >= 50"]
`;
    const { config, problems } = parse(strings);
    expect(brief(problems)).toEqual([`${lineOf(strings, "when =")} global.lb_model_router.rules[0].when[0] warning: this condition is not a table, so it never matches`]);
    expect(config!.global.lb.router!.rules[0]!.when).toEqual([{ field: undefined, op: "==", value: undefined }]);

    const single = `[global.lb_model_router]
[[global.lb_model_router.rules]]
name = "r"
target_model = "opus4.6"
[global.lb_model_router.rules.when]
field = "tools_count"
`;
    const second = parse(single).problems.find((p) => p.severity === "error")!;
    expect([second.path, second.message, second.hint]).toEqual(["global.lb_model_router.rules[0].when", "expected a list of tables, got a table", "write [[global.lb_model_router.rules.when]] tables"]);
  });

  test("a wrong type is an error, as everywhere in the file", () => {
    const { config, problems } = parse(`[global.lb_model_router]\nenabled = "sometimes"\n`);
    expect(config).toBeNull();
    expect(problems[0]).toMatchObject({ severity: "error", path: "global.lb_model_router.enabled" });
  });
});

describe("config_file", () => {
  const INCLUDE = `[lb_model_router]
enabled = true
[[lb_model_router.rules]]
name = "from_file"
target_model = "opus4.6"
[[lb_model_router.rules.when]]
field = "tools_count"
op = "=>"
value = 3
`;

  test("is read relative to providers.toml and merged over the table (its keys win, lists replace)", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "router"));
    writeFileSync(join(dir, "router", "rules.toml"), INCLUDE);
    const extra = `[global.lb_model_router]
enabled = false
config_file = "router/rules.toml"
[[global.lb_model_router.rules]]
name = "inline"
target_model = "sonnet4.6"
`;
    const { config, problems } = parseConfig(BASE + extra, join(dir, "providers.toml"), {});
    const router = config!.global.lb.router!;
    expect(router.enabled).toBe(true);
    expect(router.rules.map((r) => r.name)).toEqual(["from_file"]);
    expect(config!.includes).toEqual([join(dir, "router", "rules.toml")]);
    // The problem in the included file names that file and its own line.
    expect(problems).toEqual([
      expect.objectContaining({ file: join(dir, "router", "rules.toml"), line: 8, path: "lb_model_router.rules[0].when[0].op", severity: "warning" }),
    ]);
  });

  test("a missing file is a warning; broken TOML in it is an error at its line", () => {
    const extra = `[global.lb_model_router]\nconfig_file = "nope.toml"\n`;
    const missing = parse(extra);
    expect(missing.config).not.toBeNull();
    expect(brief(missing.problems)[0]).toStartWith(`${lineOf(extra, "nope.toml")} global.lb_model_router.config_file warning: config_file "nope.toml" does not exist`);
    const broken = parse(extra, "/x/providers.toml", (p) => (p === "/x/nope.toml" ? "[lb_model_router]\nenabled = \n" : null));
    expect(broken.config).toBeNull();
    expect(broken.problems).toEqual([expect.objectContaining({ file: "/x/nope.toml", line: 2, severity: "error" })]);
  });

  test("gw check prints the included file's problems with its own path", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "rules.toml"), INCLUDE);
    writeFileSync(join(dir, "providers.toml"), `${BASE}[global.lb_model_router]\nconfig_file = "rules.toml"\n`);
    const r = await runGw(["check", "-c", join(dir, "providers.toml")], { cwd: dir });
    expect(r.stderr).toContain('rules.toml:8:1  lb_model_router.rules[0].when[0].op  warning: unknown op "=>"');
    expect(r.code).toBe(0);
  });
});
