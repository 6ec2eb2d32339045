import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";
import type { Problem } from "../../src/config/types.ts";

const BASE = `[global]
main_port = 8145
host = "127.0.0.1"
[instances.a]
port = 8146
providers = [{ type = "antigravity" }, { type = "anthropic", api_keys = ["k"] }]
`;

/** The problems of BASE + extra, as "line:col path severity" plus the message. */
function check(extra: string, env: Record<string, string> = {}): Problem[] {
  return [...parseConfig(BASE + extra, "/x/providers.toml", env).problems];
}
const one = (extra: string, env?: Record<string, string>) => {
  const ps = check(extra, env);
  expect(ps).toHaveLength(1);
  return ps[0]!;
};
const lineOf = (extra: string, needle: string) => (BASE + extra).split("\n").findIndex((l) => l.includes(needle)) + 1;

describe("gw check finds each problem at its line", () => {
  test("TOML syntax error: line and column from smol-toml", () => {
    const { config, problems } = parseConfig("[global]\nmain_port = 8145\nhost = \n", "/x/p.toml");
    expect(config).toBeNull();
    expect(problems[0]).toMatchObject({ severity: "error", line: 3, col: 8 });
    expect(problems[0]!.message).toStartWith("TOML syntax");
  });

  test("wrong type", () => {
    const extra = `[routing]\n"m" = [{ instance = "a", provider = "antigravity", model = "x", weight = "heavy" }]\n`;
    const p = one(extra);
    expect(p).toMatchObject({ severity: "error", path: 'routing.m[0].weight', line: lineOf(extra, "heavy") });
    expect(p.message).toContain("expected a number");
  });

  test("out-of-range port and weight (the old tool failed on these too)", () => {
    const ps = check(`[instances.b]\nport = 70000\n[routing]\n"m" = [{ instance = "a", provider = "antigravity", model = "x", weight = -1 }]\n`);
    expect(ps.map((p) => [p.path, p.severity])).toEqual([
      ["instances.b.port", "error"],
      ["routing.m[0].weight", "error"],
    ]);
  });

  test("a misspelled key: an error naming the key it means, at the key's own line and column", () => {
    const extra = `[routing]\n"m" = [\n  { instance = "a", provider = "antigravity",\n    model = "x", wieght = 3 },\n]\n`;
    const p = one(extra);
    expect(p).toMatchObject({ severity: "error", path: "routing.m[0].wieght", line: lineOf(extra, "wieght"), col: 18 });
    expect(p.message).toBe('unknown key "wieght" — did you mean "weight"?');
  });

  test("target naming an unknown instance or an undefined provider type names the route", () => {
    const ps = check(`[routing]\n"opus" = [{ instance = "nope", provider = "claude", model = "x" }, { instance = "a", provider = "codex", model = "y" }]\n`);
    expect(ps.map((p) => p.severity)).toEqual(["error", "error"]);
    expect(ps[0]!.message).toBe('route "opus" names unknown instance "nope"');
    expect(ps[1]!.message).toBe('route "opus": instance "a" defines no provider of type "codex"');
    expect(ps[1]!.hint).toBe("its providers are: antigravity, anthropic");
  });

  test("an instance name one slip away is suggested", () => {
    const [p] = check(`[routing]\n"opus" = [{ instance = "aa", provider = "claude", model = "x" }]\n`);
    expect(p!.hint).toStartWith('did you mean "a"? define [instances.aa] or use one of: a');
  });

  test("a target's misspelled provider gets the type it means, never the hint to add the typo", () => {
    const hints = (provider: string, providers = `[{ type = "antigravity" }, { type = "claude" }]`) =>
      check(`[instances.b]\nport = 8150\nproviders = ${providers}\n[routing]\n"m" = [{ instance = "b", provider = "${provider}", model = "x" }]\n`).map((p) => p.hint);
    expect(hints("antigravty")).toEqual(['did you mean "antigravity"?']);
    expect(hints("cluade")).toEqual(['did you mean "claude"?']);
    // A type that exists, only not on this instance: its providers; a misspelling of such a type: both.
    expect(hints("codx")).toEqual(['did you mean "codex"? its providers are: antigravity, claude']);
    expect(hints("bogus")).toEqual(['"bogus" is no provider type: use one of antigravity, codex, claude, kimi, xai, anthropic, openai, gemini, minimax']);
    // An instance without providers: adding a real type is the fix, adding a typo never is.
    expect(hints("codex", "[]")).toEqual(['add { type = "codex" } to [instances.b] providers']);
    expect(hints("cdoex", "[]")).toEqual(['did you mean "codex"?']);
  });

  test("missing provider is a warning", () => {
    expect(one(`[routing]\n"m" = [{ instance = "a", model = "x" }]\n`)).toMatchObject({ severity: "warning", path: "routing.m[0]" });
  });

  test("a target without a provider is told the type its model means, of its instance's", () => {
    // Instance a has antigravity and anthropic; b has codex, gemini and claude.
    const hint = (instance: string, model: string) =>
      check(`[instances.b]\nport = 8150\nproviders = [{ type = "codex" }, { type = "gemini", api_keys = ["k"] }, { type = "claude" }]\n[routing]\n"m" = [{ instance = "${instance}", model = "${model}" }]\n`).find((p) => p.message.includes("names no provider"))?.hint;
    expect(hint("a", "claude-opus-4-6")).toBe('add provider = "anthropic"');
    expect(hint("a", "gemini-3-pro-high")).toBe('add provider = "antigravity"'); // it serves Gemini too
    expect(hint("b", "gemini-2.5-pro")).toBe('add provider = "gemini"');
    expect(hint("b", "gpt-5-codex")).toBe('add provider = "codex"');
    expect(hint("b", "claude-sonnet-4-5")).toBe('add provider = "claude"');
    expect(hint("b", "minimax-m2")).toBe('add provider = "codex"'); // no family: the instance's first
  });

  test("duplicate ports, including main_port", () => {
    const ps = check(`[instances.b]\nport = 8146\nproviders = [{ type = "codex" }]\n[instances.c]\nport = 8145\nproviders = [{ type = "codex" }]\n`);
    expect(ps.map((p) => [p.path, p.message])).toEqual([
      ["instances.b.port", 'port 8146 is also used by instance "a"'],
      ["instances.c.port", "port 8145 is also used by the load balancer (main_port)"],
    ]);
  });

  test("duplicate ports of url instances on this machine, however the url names it (a password in it, [::1]); a remote host's port is its own", () => {
    const urls = ['"http://user:pass@127.0.0.1:8146"', '"http://[::1]:8146"', '"http://LOCALHOST:8146"', '"http://10.0.0.7:8146"'];
    const ps = check(urls.map((u, i) => `[instances.u${i}]\nurl = ${u}\napi_key = "k"\n`).join(""));
    expect(ps.filter((p) => p.message.includes("also used")).map((p) => p.path)).toEqual(["instances.u0", "instances.u1", "instances.u2"]);
  });

  test("auto-upgrade map naming a route that does not exist: a warning (the old LB skipped the entry, and so does gw)", () => {
    const cfg = BASE.replace('host = "127.0.0.1"', 'host = "127.0.0.1"\n[global.lb_auto_upgrade_map]\n"m.auto" = "opus9"') + `[routing]\n"m.auto" = [{ instance = "a", provider = "antigravity", model = "x" }]\n`;
    const ps = parseConfig(cfg, "/x/p.toml").problems;
    expect(ps).toHaveLength(1);
    expect(ps[0]).toMatchObject({ severity: "warning", path: 'global.lb_auto_upgrade_map."m.auto"', line: 5, message: 'auto-upgrade target route "opus9" does not exist, so "m.auto" is never upgraded' });
  });

  test("unresolved ${VAR}: a warning, an error when it is an API key", () => {
    const ps = check(`[instances.b]\nport = 8150\nproxy = "\${PROXY_URL}"\nproviders = [{ type = "anthropic", api_keys = ["\${MISSING_KEY}"] }]\n`);
    expect(ps.map((p) => [p.path, p.severity])).toEqual([
      ["instances.b.proxy", "warning"],
      ["instances.b.providers[0].api_keys[0]", "error"],
    ]);
    expect(check(`[instances.b]\nport = 8150\nproviders = [{ type = "anthropic", api_keys = ["\${K}"] }]\n`, { K: "v" })).toEqual([]);
  });

  test("a public host without api_keys is a warning and binds loopback", () => {
    const { config, problems } = parseConfig(BASE.replace('host = "127.0.0.1"', 'host = "0.0.0.0"'), "/x/p.toml");
    expect(problems[0]).toMatchObject({ severity: "warning", path: "global.host", line: 3 });
    expect(problems[0]!.hint).toContain("api_keys");
    expect(config!.global.bindHost).toBe("127.0.0.1");
  });

  test("an admin_key that is also a client key is a warning at admin_key (its holder would read the status page and /metrics); its own value is none", () => {
    const withAdmin = (admin: string, env: Record<string, string> = {}) =>
      parseConfig(BASE.replace('host = "127.0.0.1"', `host = "0.0.0.0"\napi_keys = ["team-alice-3f9a8c7d2e1b", "team-bob-9e8d7c6b5a4f"]\nadmin_key = ${admin}`), "/x/p.toml", env).problems;
    for (const [admin, env] of [['"team-bob-9e8d7c6b5a4f"', {}], ['"${ADMIN}"', { ADMIN: "team-bob-9e8d7c6b5a4f" }]] as const) {
      const ps = withAdmin(admin, env);
      expect(ps.map((p) => [p.severity, p.path, p.line])).toEqual([["warning", "global.admin_key", 5]]);
      expect(ps[0]!.message).not.toContain("team-bob");
    }
    expect(withAdmin('"admin-only-7c6b5a4f3e2d1c"')).toEqual([]);
  });

  test("client keys the request log and gw usage --by client would show alike are a warning at the second one", () => {
    const withKeys = (keys: string, env: Record<string, string> = {}) =>
      parseConfig(BASE.replace('host = "127.0.0.1"', `host = "0.0.0.0"\napi_keys = ${keys}`), "/x/p.toml", env).problems;
    // Short keys all show as ***; long ones alike in their first 6 and last 4 characters too.
    for (const keys of [`["alice-2026", "bob-2026"]`, `["gw-team-key-alice-2026", "gw-team-key-bob-2026"]`, `["\${A}", "\${B}"]`]) {
      const ps = withKeys(keys, { A: "gw-team-alice-000000000-2026", B: "gw-team-bob-1111111111-2026" });
      expect(ps.map((p) => [p.severity, p.path, p.line])).toEqual([["warning", "global.api_keys[1]", 4]]);
      expect(ps[0]!.message).toMatch(/^this client key shows as "[^"]+" in the request log and gw usage --by client, as api_keys\[0\] does: whose requests are whose is lost$/);
      expect(ps[0]!.message).not.toContain("alice");
      expect(ps[0]!.hint).toContain("openssl rand -hex 24");
    }
    // One short key, distinct long keys, or one key written twice: nothing to tell apart.
    for (const keys of [`["k"]`, `["team-alice-3f9a8c7d2e1b", "team-bob-9e8d7c6b5a4f"]`, `["team-alice-3f9a8c7d2e1b", "team-alice-3f9a8c7d2e1b"]`]) {
      expect(withKeys(keys)).toEqual([]);
    }
  });

  test("settings CLIProxyAPI no longer reads", () => {
    expect(one(`[instances.b]\nport = 8150\nquota_switch_project = true\nproviders = [{ type = "codex" }]\n`)).toMatchObject({ severity: "warning", path: "instances.b.quota_switch_project" });
  });

  test("a command written as one string with spaces: gw runs no shell, so the list to write instead", () => {
    const cmd = (c: string) => check(`[instances.b]\nport = 8150\ncommand = ${c}\nproviders = [{ type = "codex" }]\n`);
    expect(cmd(`"./cli-proxy-api -config {config}"`)).toMatchObject([
      {
        severity: "warning",
        path: "instances.b.command",
        line: lineOf(`[instances.b]\nport = 8150\ncommand = "./cli`, "command ="),
        message: 'command is one string, and gw runs no shell: it would start a program named "./cli-proxy-api -config {config}"',
        hint: 'write the program and each argument as a list: command = ["./cli-proxy-api", "-config", "{config}"]',
      },
    ]);
    expect(cmd(`"sh -c 'exit 2'"`)[0]!.hint).toBe('write the program and each argument as a list: command = ["program", "arg", …]');
    expect(cmd(`"./cli-proxy-api"`)).toEqual([]);
    expect(cmd(`["/opt/my tools/cpa", "-config", "{config}"]`)).toEqual([]);
  });

  test("cld scenario naming a route that does not exist", () => {
    const p = one(`[routing]\n"g3f" = [{ instance = "a", provider = "antigravity", model = "x" }]\n[cld.scenarios.Fast]\nmain = "g3f"\nfast = "g3f"\nopus = "opus9"\n`);
    expect(p).toMatchObject({ severity: "warning", path: "cld.scenarios.Fast.opus" });
  });

  test("context_window: an integer of at least 1024 tokens", () => {
    const target = (w: string) => `[routing]\n"m" = [{ instance = "a", provider = "anthropic", model = "x", context_window = ${w} }]\n`;
    expect(check(target("200_000"))).toEqual([]);
    expect(check(target('"131072"'))).toEqual([]);
    expect(one(target("200"))).toMatchObject({ severity: "error", path: "routing.m[0].context_window", message: "200 is out of range", hint: "use a value at least 1024" });
    expect(one(target('"200k"'))).toMatchObject({ severity: "error", path: "routing.m[0].context_window" });
  });

  test("default_instance, extra_headers host (ignored, as the old LB did), unknown provider type", () => {
    const ps = check(`[instances.b]\nport = 8150\nproviders = [{ type = "anthropik" }]\n[routing]\n"m" = [{ instance = "a", provider = "anthropic", model = "x", params = { extra_headers = { Host = "evil" } } }]\n`);
    expect(ps.map((p) => [p.path, p.severity, p.hint])).toEqual([
      ["instances.b.providers[0].type", "error", 'did you mean "anthropic"?'],
      ["routing.m[0].params.extra_headers.Host", "warning", "gw computes it for every request; remove it"],
    ]);
    const d = parseConfig(BASE.replace("main_port = 8145", 'main_port = 8145\ndefault_instance = "zz"'), "/x/p.toml").problems;
    expect(d[0]).toMatchObject({ severity: "error", path: "global.default_instance" });
  });

  test("every problem is reported, not just the first", () => {
    const ps = check(`[instances.b]\nport = "x"\n[instances.c]\nport = 8151\nbogus = 1\nproviders = [{ type = "codex" }]\n[routing]\n"m" = [{ instance = "zz", model = "x" }]\n"n" = "oops"\n`);
    expect(ps.length).toBe(4);
  });
});
