// The config reader under random damage: providers.toml.example, the old-key fixture and the
// reference's examples (providers-toml.md's [routing], model-router.md's router), each mutated (a line deleted or doubled, a value of another type, a table
// twice, control and unicode characters, huge numbers, deep nesting). Every result must be a
// config or problems that each name a line and column — never a throw, never a hang. A fixed seed
// makes a failure reproducible: the test names the seed and the case.
// (GW_FUZZ_CASES=5000 bun test test/config/fuzz.test.ts runs a longer hunt.)
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import { instanceYaml } from "../../src/instances/yaml.ts";
import { seededRandom } from "../helpers/policy.ts";
import { ROUTER_ROUTES, routerTable } from "../lb/router/fixture.ts";
import { EVERY_OLD_KEY } from "./fixtures.ts";

const ROOT = join(import.meta.dir, "../..");
const CASES = Number(process.env.GW_FUZZ_CASES ?? 400);
const SEED = 20261201;

/** providers-toml.md's [routing] example, on the two instances it names, with an upgrade map. */
const ROUTING = `[global]
main_port = 8145
lb_auto_upgrade_enabled = "yes"
[global.lb_auto_upgrade_map]
"g3f.auto" = "opus4.6"
[instances.official]
port = 8146
providers = [{ type = "antigravity" }]
[instances.relay]
port = 8147
providers = [{ type = "anthropic", base_url = "https://relay.example.com", api_keys = ["\${RELAY_KEY}"] }]
[routing]
"opus4.6" = [
  { instance = "official", provider = "antigravity", model = "claude-opus-4-6-thinking", weight = 80 },
  { instance = "relay", provider = "anthropic", model = "anthropic/claude-opus-4.6", weight = 20,
    params = { max_tokens_max = 24000, anthropic_beta = "context-1m-2025-08-07" } },
]
"g3f"      = [ { instance = "official", provider = "antigravity", model = "gemini-3-flash" } ]
"g3f.auto" = [ { instance = "official", provider = "antigravity", model = "gemini-3-flash" } ]
`;
/** model-router.md's example as the router tests have it. */
const ROUTER = `[global]\nmain_port = 8145\n${routerTable()}\n[instances.cheap]\nport = 8146\nproviders = [{ type = "anthropic", api_keys = ["\${RELAY_KEY}"] }]\n[instances.strong]\nport = 8147\nproviders = [{ type = "anthropic", api_keys = ["\${RELAY_KEY}"] }]\n[routing]\n${ROUTER_ROUTES}`;
const SEEDS = { "providers.toml.example": readFileSync(join(ROOT, "providers.toml.example"), "utf8"), fixture: EVERY_OLD_KEY, routing: ROUTING, router: ROUTER };
const ENV = { RELAY_KEY: "sk-relay-0123456789", OPENAI_RELAY_KEY: "sk-or-0123456789", GW_CLIENT_KEY: "sk-client-0123456789" };

const VALUES = [
  '""', '"x"', '"  7 "', '"-1"', '"yes"', '"${NOPE}"', '"${RELAY_KEY}"', "0", "-1", "1.5", "-0.0", "1e308", "-1e308", "inf", "-inf", "nan",
  "9223372036854775807", "-9223372036854775808", "0x7fffffff", "1_000_000", "true", "false", "[]", "[1, \"a\", true]", "[[1], [2]]",
  "{}", "{ a = 1 }", '{ type = "claude" }', "1979-05-27T07:32:00Z", "07:32:00", '"\\u0000"', '"\\u202e"', `"${"x".repeat(5000)}"`,
  '"ab\\tc"', '"🙂"', "'''multi\nline'''",
];
const JUNK = ["\u0000", "\u0007", "\u001b[31m", "\u202e", "\uFEFF", "\uD800", "🙂", "é", "\r", "\r\n", "\t", "\\", '"', "'", "[", "]", "{", "}", "=", "#", ".", ",", "${", "\u2028"];

function deep(open: string, close: string, inner: string, depth: number): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

type Mutation = (lines: string[], r: () => number) => string[];
const pick = <T>(xs: readonly T[], r: () => number): T => xs[Math.floor(r() * xs.length)]!;
const at = (lines: string[], r: () => number) => Math.floor(r() * lines.length);

const MUTATIONS: Record<string, Mutation> = {
  deleteLine: (l, r) => l.toSpliced(at(l, r), 1),
  duplicateLine: (l, r) => {
    const i = at(l, r);
    return l.toSpliced(i, 0, l[i]!);
  },
  swapValue: (l, r) => {
    const i = at(l, r);
    const m = /^(\s*[^=\[#]+?=\s*)/.exec(l[i]!);
    return m ? l.toSpliced(i, 1, m[1] + pick(VALUES, r)) : l;
  },
  swapInlineValue: (l, r) => {
    const i = at(l, r);
    const parts = l[i]!.split(/(=\s*)("[^"]*"|[-\w.]+)/);
    if (parts.length < 4) return l;
    const k = 2 + 3 * Math.floor(r() * Math.floor((parts.length - 1) / 3));
    parts[k] = pick(VALUES, r);
    return l.toSpliced(i, 1, parts.join(""));
  },
  duplicateTable: (l, r) => {
    const starts = l.flatMap((x, i) => (/^\s*\[/.test(x) ? [i] : []));
    if (!starts.length) return l;
    const s = pick(starts, r);
    let e = s + 1;
    while (e < l.length && !/^\s*\[/.test(l[e]!)) e++;
    return [...l, ...l.slice(s, e)];
  },
  insertJunk: (l, r) => {
    const i = at(l, r);
    const line = l[i]!;
    const c = Math.floor(r() * (line.length + 1));
    return l.toSpliced(i, 1, line.slice(0, c) + pick(JUNK, r) + line.slice(c));
  },
  hugeNumber: (l, r) => {
    const i = at(l, r);
    return l.toSpliced(i, 1, l[i]!.replace(/\b\d+\b/, pick(["99999999999999999999", "18446744073709551616", "1" + "0".repeat(400), "-99999999999", "65536", "0"], r)));
  },
  deepInline: (l, r) => {
    const depth = pick([10, 200, 2000, 20000], r);
    const value = r() < 0.5 ? deep("{ a = ", " }", "1", depth) : deep("[", "]", "1", depth);
    return l.toSpliced(at(l, r) + 1, 0, `${pick(["params", "deep", "providers", "lb_auto_upgrade_map", "x"], r)} = ${value}`);
  },
  newKeyPath: (l, r) => l.toSpliced(at(l, r), 0, pick(["[global.streaming]", "[instances]", "[routing.x]", "[[routing.m]]", "[global.lb_model_router.rules]", "[cld]", "[pricing.x]", "[global]", "[instances.\"\"]", "[instances.__proto__]", "[routing.constructor]"], r)),
  truncate: (l, r) => {
    const text = l.join("\n");
    return text.slice(0, Math.floor(r() * text.length)).split("\n");
  },
};
const NAMES = Object.keys(MUTATIONS);

function mutate(text: string, r: () => number): { text: string; applied: string[] } {
  let lines = text.split("\n");
  const applied: string[] = [];
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n; k++) {
    const name = pick(NAMES, r);
    lines = MUTATIONS[name]!(lines, r);
    applied.push(name);
    if (lines.length === 0) lines = [""];
  }
  return { text: lines.join("\n"), applied };
}

/** What must hold for any text: a config, or problems that each say where. */
function checkOne(text: string): string | undefined {
  const t0 = performance.now();
  let result: ReturnType<typeof parseConfig>;
  try {
    result = parseConfig(text, "/fuzz/providers.toml", ENV, { readInclude: () => null });
    // The config must also be usable by what runs next: the instance YAML.
    for (const inst of result.config?.instances ?? []) if (inst.managed) instanceYaml(result.config!, inst);
  } catch (e) {
    return `threw ${(e as Error)?.stack?.split("\n").slice(0, 3).join(" | ") ?? String(e)}`;
  }
  const ms = performance.now() - t0;
  if (ms > 1000) return `took ${ms.toFixed(0)} ms`;
  const { config, problems } = result;
  if (!config && !problems.some((p) => p.severity === "error")) return "no config and no error";
  for (const p of problems) {
    if (!(Number.isInteger(p.line) && p.line >= 1 && Number.isInteger(p.col) && p.col >= 1)) return `problem without a place: ${JSON.stringify(p)}`;
    if (p.line > text.split(/\r\n|\n|\r/).length + 1) return `problem past the end of the file: ${JSON.stringify(p)}`;
    if (!p.file || typeof p.message !== "string" || p.message.trim() === "") return `problem without file or message: ${JSON.stringify(p)}`;
    for (const part of [p.message, p.hint ?? "", p.path]) {
      if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(part)) return `a control character in a problem: ${JSON.stringify(part)}`;
    }
  }
  return undefined;
}

describe("what the fuzz found", () => {
  test("a syntax error beside 20,000 nested brackets is placed, not a stack overflow", () => {
    const text = `[global]\nmain_port = 8145\n[global]\nx = ${deep("{ a = ", " }", "1", 20_000)}\n`;
    expect(checkOne(text)).toBeUndefined();
    expect(parseConfig(text, "/x/p.toml").problems).toMatchObject([{ severity: "error", line: 3, message: expect.stringContaining("[global] is set twice") }]);
  });

  test("a value with a newline or an escape sequence is quoted escaped: every problem stays one line", () => {
    const text = `[global]\nmain_port = 8145\n[instances.a]\nport = 8146\nproviders = [{ type = "antigravity" }]\n[routing]\n"m" = [{ instance = "a\\n0 errors, 0 warnings\\u001b[2K", provider = "antigravity", model = "x" }]\n`;
    const [p] = parseConfig(text, "/x/p.toml").problems;
    expect(p!.message).toBe('route "m" names unknown instance "a\\n0 errors, 0 warnings\\u001b[2K"');
  });
});

describe("config reader fuzz", () => {
  for (const [name, seedText] of Object.entries(SEEDS)) {
    test(`${name}: ${CASES} mutated files each give a config or placed problems`, () => {
      expect(checkOne(seedText)).toBeUndefined();
      const r = seededRandom(SEED ^ name.length);
      const failures: string[] = [];
      for (let i = 0; i < CASES; i++) {
        const { text, applied } = mutate(seedText, r);
        const bad = checkOne(text);
        if (bad) failures.push(`case ${i} (${applied.join(", ")}): ${bad}`);
      }
      expect(failures).toEqual([]);
    }, 60_000);
  }
});
