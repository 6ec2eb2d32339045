// Errors that point at the fix: typos of known keys fail, one slip gives one error, the file's own
// words are used (no host → loopback), TOML syntax errors say what to write, and values nobody
// means for real (no scheme, empty ${VAR}, .env.example's placeholders) are caught.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { isPlaceholder, parseDotenv } from "../../src/config/env.ts";
import { loadConfig, parseConfig } from "../../src/config/index.ts";
import type { Problem } from "../../src/config/types.ts";
import { killRunningGw, runGw, tempFiles } from "../helpers/tmp.ts";

const ROOT = join(import.meta.dir, "../..");
const EXAMPLE = readFileSync(join(ROOT, "providers.toml.example"), "utf8");
const KEYS = { RELAY_KEY: "sk-relay-real", OPENAI_RELAY_KEY: "sk-or-real" };

const BASE = `[global]
main_port = 8145
[instances.a]
port = 8146
providers = [{ type = "antigravity" }, { type = "anthropic", base_url = "https://relay.example.com", api_keys = ["\${K}"] }]
[routing]
"m" = [{ instance = "a", provider = "antigravity", model = "x" }]
`;
const problems = (text: string, env: Record<string, string> = { K: "sk-real" }): Problem[] => [...parseConfig(text, "/x/providers.toml", env).problems];
const lineOf = (text: string, needle: string) => text.split("\n").findIndex((l) => l.startsWith(needle)) + 1;
const brief = (ps: Problem[]) => ps.map((p) => `${p.line}:${p.col} ${p.path} ${p.severity}: ${p.message}${p.hint ? ` (${p.hint})` : ""}`);

describe("misspelled keys", () => {
  test("a near miss of a known key is an error (and only that: no 'main_port is not set'); a key gw does not know at all stays a warning", () => {
    const ps = problems(BASE.replace("main_port = 8145", "main_prot = 8145\nfuture_option = true").replace('model = "x" }', 'model = "x", weigth = 80 }'));
    expect(brief(ps)).toEqual([
      '2:1 global.main_prot error: unknown key "main_prot" — did you mean "main_port"? (rename it to main_port; as written, its value is ignored)',
      expect.stringMatching(/^3:1 global\.future_option warning: unknown key "future_option" \(known keys: /),
      '8:65 routing.m[0].weigth error: unknown key "weigth" — did you mean "weight"? (rename it to weight; as written, its value is ignored)',
    ]);
  });

  test("an instance's port under a misspelled name: the typo, not also 'port is required'", () => {
    expect(brief(problems(BASE.replace("port = 8146", "prot = 8146")))).toEqual([
      '4:1 instances.a.prot error: unknown key "prot" — did you mean "port"? (rename it to port; as written, its value is ignored)',
    ]);
  });

  test("an instance without a port still has the rest of its table read: every problem in one check, not one more after each fix", () => {
    const text = BASE.replace("port = 8146", "prot = 8146").replace('{ type = "antigravity" }, ', '{ typ = "antigravity" }, ').replace('api_keys = ["${K}"]', 'api_key = ["${K}"]');
    const said = brief(problems(text));
    expect(said[0]).toStartWith('4:1 instances.a.prot error: unknown key "prot"');
    expect(said.some((l) => l.includes('instances.a.providers[0].typ error: unknown key "typ"'))).toBe(true);
    expect(said.some((l) => l.includes('instances.a.providers[1].api_key error: unknown key "api_key" — did you mean "api_keys"?'))).toBe(true);
  });

  test("a [global] key written above [global], below an instance or below [routing] is named as [global]'s, with where to move it (not a typo's guess)", () => {
    const text = `main_port = 8146\n${BASE.replace("main_port = 8145\n", "").replace("port = 8146", 'port = 8146\nhost = "0.0.0.0"')}lb_idle_timeout_ms = 5000\n`;
    expect(brief(problems(text))).toEqual([
      '1:1 main_port warning: "main_port" is a [global] setting, not read here (move it under a [global] line)',
      "2:1 global warning: main_port is not set; using 8145 (add main_port = 8145 under [global])",
      '5:1 instances.a.host warning: "host" is a [global] setting, not read here (move it under [global]: every key after the [instances.a] line belongs to [instances.a])',
      '9:1 routing.lb_idle_timeout_ms error: "lb_idle_timeout_ms" is a [global] setting, not a route (a route is a list of targets) (move it under [global]: every key after the [routing] line belongs to [routing])',
    ]);
  });

  test("gw check exits 1 on a typo (it used to pass with a warning)", async () => {
    const dir = tempFiles({ "providers.toml": BASE.replace('model = "x" }', 'model = "x", weigth = 80 }'), ".env": "K=sk-real\n" });
    const r = await runGw(["check", "-c", join(dir, "providers.toml")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: unknown key "weigth" — did you mean "weight"?');
  });
});

describe("one root cause, one error", () => {
  test("a bad instance port: no false 'unknown instance' errors from the routes that use it", () => {
    const ps = problems(EXAMPLE.replace("port = 8146", 'port = "abc"'), KEYS);
    expect(brief(ps)).toEqual([`${lineOf(EXAMPLE, "port = 8146")}:1 instances.official.port error: expected an integer, got the string "abc"`]);
  });

  test("an instance without a port: its routes' own mistakes are still said (a weight that is no number, a provider it lacks)", () => {
    const text = BASE.replace("port = 8146\n", "").replace('model = "x" }', 'model = "x", weight = "heavy" }, { instance = "a", provider = "openai", model = "y" }');
    expect(brief(problems(text))).toEqual([
      '3:1 instances.a error: port is required (add port = 8146 (a free port), or url = "http://host:port" for an instance gw does not start)',
      '6:65 routing.m[0].weight error: expected a number, got the string "heavy"',
      '6:103 routing.m[1].provider error: route "m": instance "a" defines no provider of type "openai" (its providers are: antigravity, anthropic)',
    ]);
  });

  test("a provider type misspelled: that one error, not also 'defines no provider' with a fix that adds it twice", () => {
    const ps = problems(BASE.replace('{ type = "antigravity" }', '{ type = "antigravty" }'));
    expect(brief(ps)).toEqual(['5:16 instances.a.providers[0].type error: unknown provider type "antigravty" (did you mean "antigravity"?)']);
  });

  test("[routes] instead of [routing]: the name is the one error, and the routes are still read", () => {
    const ps = problems(EXAMPLE.replace("[routing]", "[routes]"), KEYS);
    expect(brief(ps)).toEqual([`${lineOf(EXAMPLE, "[routing]")}:1 routes error: [routes] is not a table gw knows — did you mean [routing]? (rename it to [routing]; gw reads nothing from it as written)`]);
  });

  test("[instance.x] beside [instances.y]: one error for the name, nothing about the routes to x", () => {
    const ps = problems(EXAMPLE.replace("[instances.relay]", "[instance.relay]"), KEYS);
    expect(brief(ps)).toEqual([expect.stringMatching(new RegExp(`^${lineOf(EXAMPLE, "[instances.relay]")}:1 instance error: \\[instance\\] is not a table gw knows — did you mean \\[instances\\]\\?`))]);
  });

  test("the example file itself has no problem at all", () => {
    expect(problems(EXAMPLE, KEYS)).toEqual([]);
  });
});

describe("host", () => {
  test("no host written: loopback, and nothing to warn about", () => {
    const { config, problems: ps } = parseConfig(BASE, "/x/providers.toml", { K: "sk-real" });
    expect(ps).toEqual([]);
    expect(config!.global.bindHost).toBe("127.0.0.1");
    const withKeys = parseConfig(BASE.replace("main_port = 8145", 'main_port = 8145\napi_keys = ["client"]'), "/x/providers.toml", { K: "sk-real" });
    expect(withKeys.config!.global.bindHost).toBe("127.0.0.1");
  });

  test("a public host the user wrote, without api_keys: the warning names that line", () => {
    const ps = problems(BASE.replace("main_port = 8145", 'main_port = 8145\nhost = "0.0.0.0"'));
    expect(brief(ps)).toEqual([expect.stringMatching(/^3:1 global\.host warning: host "0\.0\.0\.0" without api_keys would let anyone on the network use your accounts; binding 127\.0\.0\.1 instead/)]);
  });
});

describe("TOML syntax errors say what to write", () => {
  const syntax = (text: string) => {
    const ps = problems(text);
    expect(ps).toHaveLength(1);
    return brief(ps)[0];
  };

  test("bytes that are no UTF-8 (a file saved in another encoding): said so, not a quoting fix of garbled text", () => {
    const latin1 = new TextDecoder().decode(new Uint8Array([...new TextEncoder().encode("[global]\nname = caf"), 0xe9, 0x0a]));
    expect(syntax(latin1)).toBe("2:8  error: TOML syntax: this line holds bytes that are no UTF-8 text (save the file as UTF-8 (the editor's encoding setting), or remove the stray bytes)");
  });

  test("a NUL byte is said as such, at its column — not a quoting fix that keeps it", async () => {
    const dir = tempFiles({ "providers.toml": '[global]\nmain_port = 8145\0\n[instances.a]\nport = 8146\n' });
    const r = await runGw(["check", "-c", join(dir, "providers.toml")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("providers.toml:2:17  -  error: TOML syntax: this line holds a NUL byte  (remove the NUL byte at line 2, column 17; an editor may show it as ^@)");
    expect(syntax('[global]\nmain_port = "81\u000045"\n')).toBe("2:16  error: TOML syntax: this line holds a NUL byte (remove the NUL byte at line 2, column 16; an editor may show it as ^@)");
  });

  test("text without quotes", () => {
    expect(syntax('[global]\nhost = 127.0.0.1\n')).toBe('2:13 global.host error: TOML syntax: 127.0.0.1 is not a TOML value — text needs quotes (write it as: host = "127.0.0.1")');
    expect(syntax('[global]\ncliproxy = /opt/cli-proxy-api   # the binary\n')).toBe('2:12 global.cliproxy error: TOML syntax: /opt/cli-proxy-api is not a TOML value — text needs quotes (write it as: cliproxy = "/opt/cli-proxy-api"   # the binary)');
    expect(syntax('[routing]\n"m" = [{ instance = a, model = "x" }]\n')).toBe('2:21 routing.m error: TOML syntax: a is not a TOML value — text needs quotes (write it as: "m" = [{ instance = "a", model = "x" }])');
  });

  test("a key set twice names the key, its table and both lines", () => {
    expect(syntax("[global]\nmain_port = 8145\nhost = \"127.0.0.1\"\nmain_port = 1\n")).toBe('4:1 global.main_port error: TOML syntax: "main_port" in [global] is set twice (lines 2 and 4) (keep one of them)');
    expect(syntax("[instances.a]\nport = 1\n[instances.b]\nport = 2\n[instances.a]\nport = 3\n")).toBe("5:2 instances.a error: TOML syntax: [instances.a] is set twice (lines 1 and 5) (merge the two tables into one)");
    expect(syntax('[instances.a]\nproviders = [{ type = "codex", type = "claude" }]\n')).toBe('2:32 instances.a.providers error: TOML syntax: "type" is set twice on line 2 (keep one of them)');
  });

  test("an unclosed header, an unclosed string, a missing value", () => {
    expect(syntax("[routing\n")).toBe("1:9  error: TOML syntax: a table header is not closed (close it: [routing])");
    expect(syntax('[global]\nhost = "127.0.0.1\n')).toBe('2:18  error: TOML syntax: a string is not closed (close it: host = "127.0.0.1")');
    expect(syntax("[global]\nhost =\n")).toBe("2:7 global.host error: TOML syntax: host has no value (write a value after = (text in quotes), or remove the line)");
  });

  // The line a hint spells out is TOML: applied, the file parses (it once said `"model = ""x""`).
  test("every line gw check offers for a TOML syntax error parses once put in its place", async () => {
    const broken: Record<string, string> = {
      '["a.b] = 1': 'close it: "a.b" = 1',
      '"model = "x"': 'close it: "model" = "x"',
      "'model = 'x'": "close it: 'model' = 'x'",
      '[instances."a': 'close it: [instances."a"]',
      "[[a": "close it: [[a]]",
      "x = hello world # the host": 'write it as: x = "hello world" # the host',
      "x = [a, b]": 'write it as: x = ["a", "b"]',
      'x = hel"lo': 'write it as: x = "hel\\"lo"',
      "[instances.a b]": 'write it as: [instances."a b"]',
      'x = "a': 'close it: x = "a"',
    };
    const dir = tempFiles({});
    for (const [line, hint] of Object.entries(broken)) {
      const file = join(dir, "providers.toml");
      writeFileSync(file, `# line 2 is broken\n${line}\n[global]\n`);
      const r = await runGw(["check", "-c", file]);
      const said = /:2:\d+ .*\((?:close it|write it as): (.*)\)$/m.exec(r.stderr);
      expect([line, said && `${said[0].includes("(close it: ") ? "close it" : "write it as"}: ${said[1]}`]).toEqual([line, hint]);
      expect(() => parseToml(`# line 2 is broken\n${said![1]}\n[global]\n`)).not.toThrow();
    }
  }, 60_000);
});

describe("values nobody means for real", () => {
  test("base_url without a scheme", () => {
    const ps = problems(BASE.replace('base_url = "https://relay.example.com"', 'base_url = "relay.example.com:8443/v1"'));
    expect(brief(ps)).toEqual(['5:62 instances.a.providers[1].base_url error: base_url "relay.example.com:8443/v1" is not an http(s) URL (write it with its scheme: base_url = "https://relay.example.com:8443/v1")']);
  });

  // Its scheme written before the variable, as the scheme hint had it, the instance got `https://${NOPE_URL}` (a warning only).
  test("a base_url or url that is an unset ${VAR}: the fix is to set it, not to write a scheme before it; set in .env, it passes", async () => {
    const base = BASE.replace('base_url = "https://relay.example.com"', 'base_url = "${NOPE_URL}"').replace("${K}", "sk-relay-real");
    const dir = tempFiles({ "providers.toml": base, "relay.toml": base.replace("port = 8146", 'url = "${NOPE_URL}"\napi_key = "sk-up"') });
    /** gw check's lines about NOPE_URL, without the file's folder. */
    const check = async (file: string) => {
      const r = await runGw(["check", "-c", join(dir, file)], { env: { NOPE_URL: undefined } });
      return r.stderr.split("\n").filter((l) => l.includes("NOPE_URL")).map((l) => l.replace(`${dir}/`, ""));
    };
    const set = "(set NOPE_URL in the environment or in .env beside the config)";
    expect(await check("providers.toml")).toEqual([
      `providers.toml:5:62  instances.a.providers[1].base_url  warning: \${NOPE_URL} is not set; the text is kept as written  ${set}`,
      `providers.toml:5:62  instances.a.providers[1].base_url  error: base_url "\${NOPE_URL}" is not an http(s) URL  ${set}`,
    ]);
    expect(await check("relay.toml")).toContain(`relay.toml:4:1  instances.a.url  error: "\${NOPE_URL}" is not an http(s) URL  ${set}`);
    writeFileSync(join(dir, ".env"), "NOPE_URL=https://relay.example.com\n");
    expect(await check("providers.toml")).toEqual([]);
  });

  test("an instance url that ends in the API version (a relay's documented base URL): requests would go to /v1/v1/…", () => {
    const ps = problems(BASE.replace("port = 8146", 'url = "https://openrouter.ai/api/v1/"\napi_key = "sk-or"'));
    expect(brief(ps)).toEqual(['4:1 instances.a.url warning: url ends in /v1: gw adds each request\'s own path (/v1/chat/completions, /v1/messages, …) to url, so requests would go to /api/v1/v1/… (leave the API version out: url = "https://openrouter.ai/api")']);
    expect(brief(problems(BASE.replace("port = 8146", 'url = "https://openrouter.ai/api"\napi_key = "sk-or"')))).toEqual([]);
  });

  test("a target's empty model (it used to pass, and every request named no model upstream)", () => {
    expect(brief(problems(BASE.replace('model = "x" }', 'model = "" }')))).toEqual(['7:52 routing.m[0].model error: model is empty, so every request to this target would name no model upstream (write the upstream model name: model = "<upstream model name>")']);
  });

  test("an empty ${VAR}: an error for an API key, a warning elsewhere", () => {
    const ps = problems(BASE.replace("[instances.a]", '[instances.a]\nproxy = "${PROXY}"'), { K: "", PROXY: " " });
    expect(brief(ps)).toEqual([
      "4:1 instances.a.proxy warning: ${PROXY} is empty (give PROXY a value in .env beside the config (or in the environment))",
      "6:114 instances.a.providers[1].api_keys[0] error: ${K} is empty, so this API key would be sent empty (give K a value in .env beside the config (or in the environment) — or, without one, remove [instances.a] and the targets that name it)",
    ]);
  });

  test(".env.example copied as it is: its placeholders are refused, with the fix", async () => {
    const dir = tempFiles({ "providers.toml": EXAMPLE, ".env": readFileSync(join(ROOT, ".env.example"), "utf8") });
    const r = await runGw(["check", "-c", join(dir, "providers.toml")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("instances.relay.providers[0].api_keys[0]  error: ${RELAY_KEY} still holds a placeholder (an example value, not a real key)  (put the real key in .env: RELAY_KEY=… — or, without one, remove [instances.relay] and the targets that name it)");
    expect(r.stderr).toContain("instances.relay.providers[1].api_keys[0]  error: ${OPENAI_RELAY_KEY} still holds a placeholder");
    expect(r.stderr).not.toContain("sk-relay-x"); // the value itself is not repeated
  });

  test("every value in .env.example (commented ones too) is recognised as a placeholder; real-looking keys are not", () => {
    const text = readFileSync(join(ROOT, ".env.example"), "utf8").replace(/^# ?([A-Z_]+=)/gm, "$1");
    const values = Object.values(parseDotenv(text));
    expect(values.length).toBeGreaterThanOrEqual(3);
    for (const v of values) expect(isPlaceholder(v)).toBe(true);
    for (const v of ["sk-ant-api03-Zk3x9QmL", "AIzaSyD-8x7xZ", "sk-or-v1-0123456789abcdef", "x", "demo-key"]) expect(isPlaceholder(v)).toBe(false);
  });
});

describe("files gw cannot read, and .env lines it cannot read", () => {
  afterEach(killRunningGw); // a gw blocked on a FIFO must not outlive a failing test
  const check = (dir: string, runAs: string[] = []) =>
    runAs.length ? Bun.spawn([...runAs, process.execPath, join(ROOT, "src/main.ts"), "check", "-c", join(dir, "providers.toml")], { env: { ...process.env, NO_COLOR: "1" }, stderr: "pipe", stdout: "pipe" }) : undefined;

  test("providers.toml that is a directory, or that this user may not read: one line saying so and what to do, exit 1, no stack trace", async () => {
    const dir = tempFiles({});
    mkdirSync(join(dir, "providers.toml"));
    const r = await runGw(["check", "-c", join(dir, "providers.toml")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("providers.toml  -  error: is a directory, not a file  (pass -c with the providers.toml inside it)");
    expect(r.stderr).not.toContain("file not found");

    const locked = tempFiles({ "providers.toml": BASE, ".env": "K=sk-real\n" });
    chmodSync(locked, 0o755);
    chmodSync(join(locked, "providers.toml"), 0o000);
    // root reads any file: the check runs as nobody there.
    const proc = check(locked, process.getuid?.() === 0 ? ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] : ["env"])!;
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    expect(code).toBe(1);
    expect(stderr).toContain(`providers.toml  -  error: cannot be read: permission denied  (let this user read it (chmod u+r ${join(locked, "providers.toml")}), or run gw as the user who owns it)`);
    expect(stderr).not.toMatch(/EACCES|\n\s+at /);
  });

  test("a .env that is a directory is named before the variables it would have set", async () => {
    const dir = tempFiles({ "providers.toml": BASE });
    mkdirSync(join(dir, ".env"));
    const { problems: ps } = await loadConfig(join(dir, "providers.toml"), { env: {} });
    expect(ps.map((p) => `${p.file.slice(dir.length + 1)} ${p.severity}: ${p.message}`)).toEqual([".env error: is a directory, not a file", expect.stringContaining("${K} is not set")]);
  });

  test("a .env or router config_file that is a FIFO, or a link to /dev/stdin: one problem naming it, never a wait (a cloned folder may carry either)", async () => {
    const dir = tempFiles({ "providers.toml": BASE });
    Bun.spawnSync(["mkfifo", join(dir, ".env")]);
    const env = await runGw(["check", "-c", join(dir, "providers.toml")]);
    expect(env.code).toBe(1);
    expect(env.stderr).toContain("/.env  -  error: is not a regular file  (gw reads NAME=VALUE lines from a regular file named .env beside the config: put one there)");

    const router = tempFiles({ "providers.toml": BASE.replace("[instances.", '[global.lb_model_router]\nconfig_file = "rules.toml"\n\n[instances.') });
    symlinkSync("/dev/stdin", join(router, "rules.toml"));
    writeFileSync(join(router, ".env"), "K=sk-real-key-0123456789\n");
    const rules = await runGw(["check", "-c", join(router, "providers.toml")]);
    expect(rules.stderr).toContain('global.lb_model_router.config_file  warning: config_file "rules.toml" is not a regular file');
  });

  test("-c given a shell's process substitution (-c <(…)) is read to its end; a providers.toml in a folder linked to /dev/stdin still is not, stdin a pipe left open", async () => {
    const dir = tempFiles({ "providers.toml": BASE });
    const env = { ...process.env, NO_COLOR: "1", K: "sk-real-key-0123456789" };
    const sub = Bun.spawn(["bash", "-c", 'exec "$0" "$1" check -c <(cat "$2")', process.execPath, join(ROOT, "src/main.ts"), join(dir, "providers.toml")], { env, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(sub.stdout).text(), new Response(sub.stderr).text(), sub.exited]);
    expect(err).not.toContain("is not a regular file");
    expect(`${out}${err}`).toMatch(/\/dev\/fd\/\d+/);
    expect(code).toBe(0);

    // Read to its end, not without one: past 16 MiB it is no config.
    const huge = Bun.spawn(["bash", "-c", 'exec "$0" "$1" check -c <(head -c 17000000 /dev/zero)', process.execPath, join(ROOT, "src/main.ts")], { env, stdout: "pipe", stderr: "pipe" });
    const [hugeErr, hugeCode] = await Promise.all([new Response(huge.stderr).text(), huge.exited]);
    expect(hugeCode).toBe(1);
    expect(hugeErr).toMatch(/\/dev\/fd\/\d+  -  error: is over 16 MiB/);

    const planted = tempFiles({});
    symlinkSync("/dev/stdin", join(planted, "providers.toml"));
    // gw's stdin a pipe whose writer (cat, reading ours) stays until the check is over.
    const held = Bun.spawn(["bash", "-c", 'exec "$0" "$1" check -c "$2" < <(exec cat)', process.execPath, join(ROOT, "src/main.ts"), join(planted, "providers.toml")], { env, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    const [heldErr, heldCode] = await Promise.all([new Response(held.stderr).text(), held.exited]);
    held.stdin.end();
    expect(heldCode).toBe(1);
    expect(heldErr).toContain("providers.toml  -  error: is not a regular file");
  });

  test(".env lines gw cannot read are warned at their line (they used to vanish); a quoted value before a comment loses its quotes", async () => {
    const dir = tempFiles({ "providers.toml": BASE.replace("${K}", "${GW_DOTENV_KEY}"), ".env": '# keys\nGW_DOTENV_KEY: sk-real\nexport X="sk-x" # mine\nY="never closed\n' });
    const r = await runGw(["check", "-c", join(dir, "providers.toml")]); // not from dir: bun itself would load that .env
    expect(r.stderr).toContain("/.env:2:1  -  warning: gw cannot read this line, so it sets nothing  (write NAME=value");
    expect(r.stderr).toContain("/.env:4:1  -  warning: gw cannot read this line");
    expect(r.stderr).toContain("${GW_DOTENV_KEY} is not set");
    expect(parseDotenv('X="sk-x" # mine\nZ=\'a b\' # c\n')).toEqual({ X: "sk-x", Z: "a b" });
  });

  test("a .env value whose quote never closes sets nothing, as its warning says: the key is reported unset where it is used, and gen writes nothing", async () => {
    const dir = tempFiles({ "providers.toml": BASE.replace("${K}", "${GW_DOTENV_KEY}"), ".env": 'GW_DOTENV_KEY="sk-ant-api03-abcdefghijklmnop\n' });
    const r = await runGw(["gen", "-c", join(dir, "providers.toml")]); // not from dir: bun itself would load that .env
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("/.env:1:1  -  warning: gw cannot read this line, so it sets nothing");
    expect(r.stderr).toContain("${GW_DOTENV_KEY} is not set, so this API key would be sent literally");
    expect(existsSync(join(dir, "instances"))).toBe(false);
    expect(parseDotenv("A='open\nB=\"open too # c\nC=fine\n")).toEqual({ C: "fine" });
  });
});
