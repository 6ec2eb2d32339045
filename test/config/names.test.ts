// Names from the config are data, never paths, code or prototype keys (issue 12 item 7).
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import { INSTANCE_NAME, nameProblem, ROUTE_NAME, saferName } from "../../src/config/names.ts";
import { withInstanceKeys } from "../../src/instances/index.ts";
import { decideUpgrade } from "../../src/lb/upgrade.ts";
import { StatsCounter } from "../../src/lb/stats.ts";
import { roleCounts } from "../../src/observe/record.ts";
import { priceFor } from "../../src/observe/pricing.ts";
import { runGw, tempDir } from "../helpers/tmp.ts";

const HEAD = `[global]\nmain_port = 8145\nhost = "127.0.0.1"\n`;
const inst = (name: string, port: number) => `[instances.${JSON.stringify(name)}]\nport = ${port}\nproviders = [{ type = "antigravity" }]\n`;
const route = (name: string, instance: string) => `${JSON.stringify(name)} = [{ instance = ${JSON.stringify(instance)}, provider = "antigravity", model = "m" }]\n`;

describe("the name rules (pure)", () => {
  test("ordinary names pass, including the spellings relays use", () => {
    for (const n of ["official", "relay-2", "codex_main", "my.relay", "A1"]) expect(nameProblem(INSTANCE_NAME, n)).toBeUndefined();
    for (const n of ["opus4.6", "g3f.auto", "anthropic/claude-opus-4.6", "claude-3-5-sonnet@20240620", "qwen2.5:7b", "gpt-4o+tools"]) expect(nameProblem(ROUTE_NAME, n)).toBeUndefined();
  });

  test("whatever a shell, a file system or a header would act on is refused", () => {
    const hostile = ["../../x", "a/b", ".hidden", "-flag", "~root", "a b", "$(touch PWNED)", "`id`", "a;b", "a|b", "a&b", "a>b", "*", "a?", "[x]", "{a,b}", "a'b", 'a"b', "a\\b", "a\nb", "a\rb", "a\tb", "\u001b]0;t\u0007", "=ls", "a%b", "a!b", "a#b", "", "é"];
    for (const n of hostile) expect(nameProblem(INSTANCE_NAME, n)).toBeDefined();
    for (const n of hostile.filter((h) => h !== "a/b")) expect(nameProblem(ROUTE_NAME, n)).toBeDefined();
    expect(nameProblem(INSTANCE_NAME, "x".repeat(65))).toContain("longer than 64 characters");
  });

  test("an instance may not be called gw, in any letter case: logs/gw.log is gw's own", () => {
    for (const n of ["gw", "GW", "Gw"]) {
      expect(nameProblem(INSTANCE_NAME, n)).toBe(`instance name ${JSON.stringify(n)} is gw's own: logs/gw.log is gw's own log, and \`gw logs gw\` names it`);
      expect(nameProblem(INSTANCE_NAME, saferName(INSTANCE_NAME, n))).toBeUndefined();
    }
    expect(saferName(INSTANCE_NAME, "gw")).toBe("gw-1");
    for (const n of ["gw2", "my-gw", "gw.relay"]) expect(nameProblem(INSTANCE_NAME, n)).toBeUndefined();
    expect(nameProblem(ROUTE_NAME, "gw")).toBeUndefined(); // a route is no file
  });

  test("the suggested fix is itself valid", () => {
    for (const n of ["../../x", "$(touch PWNED)", "a b", "-x", "", "é"]) {
      expect(nameProblem(INSTANCE_NAME, saferName(INSTANCE_NAME, n))).toBeUndefined();
      expect(nameProblem(ROUTE_NAME, saferName(ROUTE_NAME, n))).toBeUndefined();
    }
    expect(saferName(INSTANCE_NAME, "../../x")).toBe("x");
    expect(saferName(ROUTE_NAME, "$(touch PWNED)")).toBe("touch-PWNED");
  });
});

describe("gw check and gw gen with hostile names", () => {
  const toml = `${HEAD}
${inst("../../x", 8146)}
${inst("ok", 8147)}
[routing]
${route("$(touch PWNED)", "ok")}${route("-rf", "ok")}"a\\nb" = [{ instance = "ok", provider = "antigravity", model = "m" }]
${route("`id`", "ok")}
[cld.scenarios."bad\\u001b]0;x"]
main = "-rf"
fast = "-rf"
opus = "-rf"
`;

  test("each name is an error at its place, with the message and the fix", async () => {
    const dir = tempDir("gw-names-");
    await Bun.write(join(dir, "providers.toml"), toml);
    const r = await runGw(["check"], { cwd: dir });
    expect(r.code).toBe(1);
    const lines = r.stderr.split("\n");
    const expectLine = (start: string, parts: string[]) => {
      const line = lines.find((l) => l.startsWith(start));
      expect(line, `no line starting ${start} in:\n${r.stderr}`).toBeDefined();
      for (const p of parts) expect(line).toContain(p);
    };
    expectLine(`providers.toml:5:1  instances."../../x"  error: instance name "../../x" may only use ASCII letters, digits, ".", "_" and "-", and not start with "-" or "."`, ["(it names files: instances/NAME.yaml, logs/NAME.log, auths/NAME)", "(rename it, e.g. [instances.x], and the targets that name it)"]);
    expectLine(`providers.toml:14:1  routing."$(touch PWNED)"  error: route name "$(touch PWNED)" may only use ASCII letters, digits and . _ - : / @ +, and not start with "-" or "."`, ['(rename it, e.g. "touch-PWNED" = [...])']);
    expectLine(`providers.toml:15:1  routing.-rf  error: route name "-rf"`, ['e.g. "rf"']);
    expectLine(`providers.toml:16:1  routing."a\\nb"  error: route name "a\\nb"`, ['e.g. "a-b"']);
    expectLine("providers.toml:17:1  routing.\"`id`\"  error:", ['e.g. "id"']);
    expectLine(`providers.toml:19:1  cld.scenarios."bad\\u001b]0;x"  error: scenario name "bad\\u001b]0;x" contains control characters`, []);
    expect(r.stderr).not.toContain("\u001b"); // the message itself carries no raw escape
  });

  test('gw gen refuses: "../../x" writes nothing, inside or outside the config directory', async () => {
    const outer = tempDir("gw-names-outer-");
    const dir = join(outer, "a", "b");
    await Bun.write(join(dir, "providers.toml"), toml);
    const r = await runGw(["gen"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("nothing was changed");
    expect(readdirSync(outer)).toEqual(["a"]);
    expect(readdirSync(join(outer, "a"))).toEqual(["b"]);
    expect(readdirSync(dir)).toEqual(["providers.toml"]);
    expect(existsSync(join(outer, "x.yaml"))).toBe(false);
  });
});

describe("names that are prototype keys work like any other name", () => {
  const names = ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"];
  const toml = `${HEAD}
lb_auto_upgrade_enabled = true
[global.lb_auto_upgrade_map]
"constructor" = "toString"

${names.map((n, i) => inst(n, 8146 + i)).join("\n")}
[routing]
${names.map((n) => route(n, n)).join("")}
[cld.scenarios.__proto__]
main = "constructor"
fast = "toString"
opus = "__proto__"

[pricing."__proto__"]
input = 1
output = 2
`;

  test("gw check passes; gw gen gives each instance its own YAML and its own key, kept across runs", async () => {
    const dir = tempDir("gw-proto-");
    await Bun.write(join(dir, "providers.toml"), toml);
    const check = await runGw(["check"], { cwd: dir });
    expect(check.stderr).toContain("0 errors");
    expect(check.code).toBe(0);
    expect((await runGw(["gen"], { cwd: dir })).code).toBe(0);
    const keys = JSON.parse(readFileSync(join(dir, ".gw", "keys.json"), "utf8")) as Record<string, string>;
    expect(Object.keys(keys).sort()).toEqual([...names].sort());
    for (const n of names) {
      expect(keys[n]).toMatch(/^gw-[A-Za-z0-9_-]{32}$/);
      expect(readFileSync(join(dir, "instances", `${n}.yaml`), "utf8")).toContain(`api-keys:\n  - ${keys[n]}\n`);
    }
    expect(new Set(Object.values(keys)).size).toBe(names.length);
    expect((await runGw(["gen"], { cwd: dir })).stdout).not.toContain("wrote");
    expect(readFileSync(join(dir, ".gw", "keys.json"), "utf8")).toBe(`${JSON.stringify(keys, null, 2)}\n`);
  });

  test("lookups with a client's model name never find an inherited value", async () => {
    const { config } = parseConfig(toml, join(tempDir("gw-proto-"), "providers.toml"), {});
    expect(config).not.toBeNull();
    const c = (await withInstanceKeys(config!));
    expect(c.instances.map((i) => typeof i.apiKey)).toEqual(names.map(() => "string"));
    expect([...c.routes.keys()]).toEqual(names);
    expect(Object.keys(c.cld.scenarios)).toEqual(["__proto__"]);
    expect(c.cld.scenarios.__proto__).toEqual({ main: "constructor", fast: "toString", opus: "__proto__" });
    // the upgrade map and prices hold only what the file says
    const mapped = (k: string): unknown => c.global.lb.autoUpgrade.map[k];
    expect(mapped("constructor")).toBe("toString");
    expect(mapped("toString")).toBeUndefined();
    expect(mapped("hasOwnProperty")).toBeUndefined();
    expect(priceFor(c.pricing, "__proto__", undefined)).toEqual({ input: 1, output: 2, cacheRead: undefined, cacheWrite: undefined });
    expect(priceFor(c.pricing, "constructor", "valueOf")).toBeUndefined();
    // A client asking for "toString" or "valueOf" is not upgraded to an inherited function.
    const big = { messages: 1000, tools: 0, streak: 0, signed: false, inputTokens: 0 };
    expect(decideUpgrade(c, "constructor", big)).toMatchObject({ route: "toString", upgraded: true });
    for (const model of ["toString", "valueOf", "hasOwnProperty", "__proto__"]) expect(decideUpgrade(c, model, big)).toEqual({ route: model, upgraded: false, reasons: [] });
  });

  test("per-instance counters and role counts keep prototype names as plain keys", () => {
    const stats = new StatsCounter();
    for (const n of names) stats.attempt(n, n === "__proto__");
    const snap = stats.snapshot().byInstance;
    for (const n of names) expect(snap[n]).toEqual({ requests: 1, errors: n === "__proto__" ? 1 : 0 });
    expect(({} as Record<string, unknown>).requests).toBeUndefined(); // Object.prototype untouched
    const roles = roleCounts({ messages: [{ role: "__proto__" }, { role: "constructor" }, { role: "user" }, { role: "constructor" }] });
    expect(JSON.stringify(roles)).toBe('{"__proto__":1,"constructor":2,"user":1}');
  });
});
