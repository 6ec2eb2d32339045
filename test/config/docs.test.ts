// README.md, providers.toml.example and .env.example against the code: every config key the
// reader knows is documented, every default README states is the one the code uses, every
// user-facing environment variable and command flag is named, and `gw check` on the example files
// says what README says it says. A key, default or flag added later without its documentation
// fails here.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { commands, RAW_ARGV_COMMANDS, visibleCommands } from "../../src/commands/index.ts";
import { userFlags } from "../../src/commands/_shared.ts";
import { parseConfig } from "../../src/config/index.ts";
import { CLD_KEYS, PRICE_KEYS, SCENARIO_KEYS } from "../../src/config/extras.ts";
import { GLOBAL_KEYS } from "../../src/config/global.ts";
import { INSTANCE_KEYS, PROVIDER_KEYS } from "../../src/config/instances.ts";
import { CATEGORY_KEYS, CONDITION_KEYS, ROUTER_KEYS, RULE_KEYS } from "../../src/config/router.ts";
import { PARAM_KEYS, TARGET_KEYS } from "../../src/config/routing.ts";
import { TOP_KEYS } from "../../src/config/top.ts";
import { QUOTA_KEYS, STREAMING_KEYS } from "../../src/config/tuning.ts";
import { SIGNAL_TYPES } from "../../src/config/router-vocabulary.ts";
import { runGw, tempFiles } from "../helpers/tmp.ts";

const ROOT = join(import.meta.dir, "../..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const EXAMPLE = readFileSync(join(ROOT, "providers.toml.example"), "utf8");
const DOTENV_EXAMPLE = readFileSync(join(ROOT, ".env.example"), "utf8");
const TABLE_ROWS = README.split("\n").filter((l) => l.startsWith("| "));
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** `key` inside some backticked text of a README table row (`[global] key`, `key`, …). */
const inTables = (key: string) => TABLE_ROWS.some((row) => new RegExp(`\`[^\`]*(?<![\\w-])${escape(key)}(?![\\w-])[^\`]*\``).test(row));

const SCHEMA: Record<string, readonly string[]> = {
  "top-level tables": TOP_KEYS,
  "[global]": GLOBAL_KEYS,
  "[global.streaming]": STREAMING_KEYS,
  "[global.quota_exceeded]": QUOTA_KEYS,
  "[instances.X]": INSTANCE_KEYS,
  "a provider": PROVIDER_KEYS,
  "a target": TARGET_KEYS,
  "a target's params": PARAM_KEYS,
  "[global.lb_model_router]": ROUTER_KEYS,
  "a router category": CATEGORY_KEYS,
  "a router rule": RULE_KEYS,
  "a rule condition": CONDITION_KEYS,
  "[cld]": CLD_KEYS,
  "a cld scenario": SCENARIO_KEYS,
  "a [pricing] entry": PRICE_KEYS,
};

/** Keys providers.toml.example leaves out, and why (each is still in README's tables). */
const NOT_IN_EXAMPLE: Record<string, string> = {
  quota_switch_project: "current CLIProxyAPI versions no longer read it (gw warns)",
  quota_switch_preview_model: "as quota_switch_project",
  quota_exceeded: "as quota_switch_project",
  switch_project: "as quota_switch_project",
  switch_preview_model: "as quota_switch_project",
  streaming: "the example shows the flat streaming_* keys",
  keepalive_seconds: "as streaming",
  bootstrap_retries: "as streaming",
  rotation_strategy: "read and ignored, as the old tool did",
};

describe("README's tables name every config key the reader knows", () => {
  for (const [where, keys] of Object.entries(SCHEMA)) {
    test(where, () => {
      expect(keys.filter((k) => !inTables(k))).toEqual([]);
    });
  }

  test("and every signal type of the router", () => {
    expect(SIGNAL_TYPES.filter((s) => !inTables(s))).toEqual([]);
  });
});

describe("providers.toml.example shows every key a user would set", () => {
  for (const [where, keys] of Object.entries(SCHEMA)) {
    test(where, () => {
      // `key = …` (commented out or not), or a table header naming it: [key], [global.key], [[….key]], [cld.key.…]
      const shown = (k: string) => new RegExp(`(?<![\\w-])${escape(k)}\\s*=|[.[]${escape(k)}(\\]|\\.)`).test(EXAMPLE);
      expect(keys.filter((k) => !shown(k) && !(k in NOT_IN_EXAMPLE))).toEqual([]);
    });
  }
});

describe("README's defaults are the code's", () => {
  // [global] last: the row's key goes at its end, and no other line moves.
  const BASE = `[instances.a]
port = 8146
providers = [{ type = "anthropic", base_url = "https://relay.example.com", api_keys = ["sk-real"] }]
[routing]
"m" = [{ instance = "a", provider = "anthropic", model = "x" }]
[global]
`;
  const configOf = (text: string) => {
    const r = parseConfig(text, "/x/providers.toml", {});
    expect(r.problems.filter((p) => p.severity === "error")).toEqual([]);
    return r.config;
  };
  /** `| \`[global] key\` | default | …` rows whose default is a TOML value. */
  const rows = TABLE_ROWS.flatMap((row) => {
    const m = /^\| `\[global\] ([a-z_]+)` \| ([^|]+?) \|/.exec(row);
    if (!m) return [];
    const cell = m[2]!.replace(/ \(.*\)$/, "").replace(/^`(.*)`$/, "$1");
    try {
      parseToml(`v = ${cell}`);
      return [{ key: m[1]!, value: cell }];
    } catch {
      return []; // "first instance", "CLIProxyAPI's", …: said in words
    }
  });

  test("the rows checked are the literal ones (a parse that finds none would prove nothing)", () => {
    expect(rows.length).toBeGreaterThanOrEqual(30);
  });

  for (const { key, value } of rows) {
    test(`${key} = ${value}`, () => {
      expect(configOf(`${BASE}${key} = ${value}\n`)).toEqual(configOf(BASE));
    });
  }
});

describe("README names every environment variable gw reads", () => {
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
    });
  // gw's own variables (GW_, CLD_, ANTI_API_), read as env.X, base.X or envValue("X").
  const read = new Set<string>();
  for (const f of files(join(ROOT, "src"))) {
    for (const m of readFileSync(f, "utf8").matchAll(/\b(?:env|base)\.((?:GW|CLD|ANTI_API)_[A-Z0-9_]+)|envValue\("([A-Z0-9_]+)"\)/g)) read.add((m[1] ?? m[2])!);
  }

  test("the scan finds them (GW_CONFIG, GW_STATE, ANTI_API_BASE, CLD_AG_FAST_MODEL …)", () => {
    for (const v of ["GW_CONFIG", "GW_STATE", "ANTI_API_BASE", "CLD_AG_FAST_MODEL", "CLD_TOML"]) expect(read).toContain(v);
  });

  test("each one is in README", () => {
    expect([...read].filter((v) => !new RegExp(`\\$?\\b${v}\\b`).test(README))).toEqual([]);
  });
});

describe("README's command table and --help agree", () => {
  const table = README.slice(README.indexOf("| command | does |"), README.indexOf("\n\n", README.indexOf("| command | does |")));

  test("every command has a row", () => {
    expect(visibleCommands().filter((c) => !new RegExp(`\`(gw )?${c}\\b`).test(table))).toEqual([]);
  });

  test("every flag of every command is in README", async () => {
    const missing: string[] = [];
    for (const name of visibleCommands()) {
      if (RAW_ARGV_COMMANDS.has(name)) continue; // cld, run, mock: their own usage text
      const def = (await commands[name]!()) as { args?: Record<string, any>; internalArgs?: string[] };
      const args = typeof def.args === "function" ? await (def.args as () => Promise<Record<string, any>>)() : (def.args ?? {});
      for (const spellings of userFlags(args, def.internalArgs)) {
        // Any spelling will do: `-c FILE` is how README says --config, `--no-browser` --browser.
        const all = [...spellings, ...spellings.filter((s) => s.startsWith("--")).map((s) => `--no-${s.slice(2)}`)];
        if (!all.some((s) => new RegExp(`(?<![\\w-])${escape(s)}(?![\\w-])`).test(README))) missing.push(`gw ${name} ${spellings.at(-1)}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe("every gw command line the docs show is one gw takes", () => {
  // What a user copies: `gw …` spans in the text, and `gw …` / `dist/gw …` lines of code blocks
  // (comments cut), in README and the example files' comments.
  const docs = [README, EXAMPLE, DOTENV_EXAMPLE].join("\n");
  /** Text that starts with "gw" and is no command line: a label cld shows, a comment's heading. */
  const PROSE = ["gw fast route (Haiku tier)", "gw additions (defaults shown):"];
  const blockLines = [...docs.matchAll(/```\w*\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split("\n"));
  const commentLines = docs.split("\n").filter((l) => l.startsWith("#")).map((l) => l.replace(/^#+\s*/, ""));
  const lines = [...[...docs.matchAll(/`(gw [^`\n]+)`/g)].map((m) => m[1]!), ...blockLines, ...commentLines]
    .map((l) => l.replace(/\s#.*$/, "").trim())
    .filter((l) => /^(?:dist\/)?gw [a-z]/.test(l) && !PROSE.includes(l));

  test("the scan finds them (gw up -d, gw cliproxy install --from, gw usage --by …)", () => {
    expect(lines.length).toBeGreaterThan(40);
    expect(lines).toContain("gw up -d");
  });

  test("each names a command, and only flags that command has", async () => {
    const known = new Set([...visibleCommands(), "help"]);
    const wrong: string[] = [];
    for (const line of new Set(lines)) {
      const [, name, rest] = /^(?:dist\/)?gw ([a-z][\w-]*)(.*)$/.exec(line)!;
      if (!known.has(name!)) {
        wrong.push(`no command "${name}": ${line}`);
        continue;
      }
      if (name === "help" || RAW_ARGV_COMMANDS.has(name!)) continue; // cld, run, mock: their argv is the agent's
      const def = (await commands[name!]!()) as { args?: Record<string, any>; internalArgs?: string[] };
      const args = typeof def.args === "function" ? await (def.args as () => Promise<Record<string, any>>)() : (def.args ?? {});
      const flags = new Set(["--help", "-h", ...userFlags(args, def.internalArgs).flat().flatMap((f) => (f.startsWith("--") ? [f, `--no-${f.slice(2)}`] : [f]))]);
      for (const [, flag] of rest!.matchAll(/(?:^|[\s[|])(--?[a-z][\w-]*)/g)) if (!flags.has(flag!)) wrong.push(`gw ${name} has no ${flag}: ${line}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe("gw check on the example files says what README says", () => {
  test("copied unedited: two errors, the relay keys still holding .env.example's placeholders", async () => {
    expect(README).toContain("Copied unedited, the two files make `gw check` report two errors: `RELAY_KEY` and\n`OPENAI_RELAY_KEY` still hold `.env.example`'s placeholders.");
    const dir = tempFiles({ "providers.toml": EXAMPLE, ".env": DOTENV_EXAMPLE });
    const r = await runGw(["check", "--json", "-c", join(dir, "providers.toml")]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { problems: { severity: string; message: string }[]; logins: { hint: string }[] };
    expect(out.problems.map((p) => `${p.severity}: ${p.message}`)).toEqual([
      "error: ${RELAY_KEY} still holds a placeholder (an example value, not a real key)",
      "error: ${OPENAI_RELAY_KEY} still holds a placeholder (an example value, not a real key)",
    ]);
    // The errors are the relay's alone: official's logins are named all the same.
    expect(README).toContain("It warns too that instance `official`\nhas no `antigravity` and no `codex` login yet (`gw login official antigravity`, `gw login official\ncodex`)");
    expect(out.logins.map((l) => l.hint)).toEqual(["log in: gw login official antigravity", "log in: gw login official codex"]);
  });

  test("with real keys: it passes, and warns about the two logins official still lacks", async () => {
    const dotenv = DOTENV_EXAMPLE.replace("RELAY_KEY=sk-relay-xxxxxxxxxxxxxxxx", "RELAY_KEY=sk-relay-3f9a2c").replace("OPENAI_RELAY_KEY=sk-or-xxxxxxxxxxxxxxxx", "OPENAI_RELAY_KEY=sk-or-7d1e4b");
    const dir = tempFiles({ "providers.toml": EXAMPLE, ".env": dotenv });
    const r = await runGw(["check", "--json", "-c", join(dir, "providers.toml")], { env: { GW_CLIPROXY: undefined } });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; problems: unknown[]; logins: { hint: string }[] };
    expect([out.ok, out.problems]).toEqual([true, []]);
    expect(out.logins.map((l) => l.hint)).toEqual(["log in: gw login official antigravity", "log in: gw login official codex"]);
    // As text: the two login warnings, and a summary that does not say "0 warnings" without more.
    const text = await runGw(["check", "-c", join(dir, "providers.toml")], { env: { GW_CLIPROXY: undefined } });
    expect(text.stderr.match(/ warning: instance "official" has no \w+ login/g)?.length).toBe(2);
    expect(text.stderr).toContain(": 0 errors, 0 warnings in the file, 2 instances, 6 routes; on this machine: 2 OAuth providers without a login (warned above; never a failure)\n");
  });
});

describe("README's links within itself", () => {
  // GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes.
  const anchors = new Set([...README.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1]!.toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-")));
  const links = [...README.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);
  test("each [text](#anchor) lands on a heading", () => {
    expect(links.length).toBeGreaterThan(5);
    expect(links.filter((l) => !anchors.has(l))).toEqual([]);
  });
});

describe("the checkout", () => {
  // A helper's merge once committed README.md with its conflict unresolved; nothing else noticed.
  test("no file git tracks holds a merge's conflict markers", () => {
    const files = Bun.spawnSync(["git", "ls-files", "-z"], { cwd: ROOT }).stdout.toString().split("\0").filter(Boolean);
    expect(files.length).toBeGreaterThan(100);
    const marked = files.filter((f) => {
      const path = join(ROOT, f);
      if (!statSync(path, { throwIfNoEntry: false })?.isFile()) return false;
      return /^(?:<{7} |>{7} |={7}$)/m.test(readFileSync(path, "latin1"));
    });
    expect(marked).toEqual([]);
  });
});
