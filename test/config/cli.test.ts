// gw check / gw gen as a user runs them: real child processes, real files.
import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { runGw, tempFiles } from "../helpers/tmp.ts";
import { EVERY_OLD_KEY } from "./fixtures.ts";

const setup = () => tempFiles({ "providers.toml": EVERY_OLD_KEY, ".env": "RELAY_KEY=sk-relay-abcdef123456\n" });

describe("gw check", () => {
  test("an old file with every old key passes; warnings are listed with FILE:LINE:COL", async () => {
    const dir = setup();
    const r = await runGw(["check"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("providers.toml:3:1  global.host  warning:");
    expect(r.stderr).toContain("0 errors, 4 warnings in the file, 2 instances, 6 routes; on this machine: 3 OAuth providers without a login");
  });

  test("the closing line counts problems where they are: the file's, a .env planted in instances/NAME/ (its folder), this machine's", async () => {
    // A key-only instance (no login to warn about); host = "0.0.0.0" is one warning in the file.
    const toml = (host: string) => `[global]\n${host}main_port = 8145\n[instances.a]\nport = 8146\nproviders = [{ type = "openai", base_url = "https://relay.example/v1", api_keys = ["sk-relay-abcdef123456"] }]\n[routing]\n"m" = [{ instance = "a", provider = "openai", model = "x" }]\n`;
    const dir = tempFiles({ "warned.toml": toml('host = "0.0.0.0"\n'), "clean.toml": toml(""), "oauth.toml": toml("").replace('{ type = "openai", base_url = "https://relay.example/v1", api_keys = ["sk-relay-abcdef123456"] }', '{ type = "antigravity" }').replace('"openai"', '"antigravity"') });
    const summary = async (file: string) => {
      const r = await runGw(["check", "-c", join(dir, file)]);
      return [r.code, r.stderr.split("\n").find((l) => l.startsWith(join(dir, file) + ": "))];
    };
    expect(await summary("warned.toml")).toEqual([0, `${join(dir, "warned.toml")}: 0 errors, 1 warning, 1 instance, 1 route`]);
    // an error beside the warning: counted apart, in the line and in --json's counts
    writeFileSync(join(dir, "broken.toml"), toml('host = "0.0.0.0"\n').replace('instance = "a"', 'instance = "b"'));
    expect(await summary("broken.toml")).toEqual([1, `${join(dir, "broken.toml")}: 1 error, 1 warning`]);
    const json = JSON.parse((await runGw(["check", "--json", "-c", join(dir, "broken.toml")])).stdout);
    expect(json.counts).toEqual({ file: { errors: 1, warnings: 1 }, folder: { errors: 0 }, machine: { logins_missing: 0 } });
    mkdirSync(join(dir, "instances", "a"), { recursive: true });
    writeFileSync(join(dir, "instances", "a", ".env"), "GITSTORE_GIT_URL=https://elsewhere.example/logins.git\n");
    const folder = "in its folder: 1 error (a .env where an instance runs, named above)";
    expect(await summary("clean.toml")).toEqual([1, `${join(dir, "clean.toml")}: 0 errors, 0 warnings in the file, 1 instance, 1 route; ${folder}`]);
    expect(await summary("warned.toml")).toEqual([1, `${join(dir, "warned.toml")}: 0 errors, 1 warning in the file, 1 instance, 1 route; ${folder}`]);
    expect(await summary("oauth.toml")).toEqual([1, `${join(dir, "oauth.toml")}: 0 errors, 0 warnings in the file, 1 instance, 1 route; ${folder}; on this machine: 1 OAuth provider without a login (warned above; never a failure)`]);
  });

  test("--strict turns warnings into a failure; --json is machine-readable", async () => {
    const dir = setup();
    expect((await runGw(["check", "--strict"], { cwd: dir })).code).toBe(1);
    // gen refuses alike, and says it is the warnings (not "0 errors").
    const gen = await runGw(["gen", "--strict"], { cwd: dir });
    expect(gen.code).toBe(1);
    expect(gen.stderr).toMatch(/providers\.toml: \d+ warnings?, which --strict refuses; nothing was changed/);
    const r = await runGw(["check", "--json", "-c", join(dir, "providers.toml")]);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(true);
    expect(out.problems).toHaveLength(4);
  });

  test("scenarios cld cannot launch (their routes are missing) are noted, never failing the check", async () => {
    const routes = `[routing]\n"opus4.6" = [{ instance = "a", provider = "antigravity", model = "x" }]\n"g3f" = [{ instance = "a", provider = "antigravity", model = "y" }]\n`;
    const own = `[cld.scenarios.Mine]\nmain = "g3f"\nfast = "g3f"\nopus = "opus9"\n`;
    const base = `[global]\nmain_port = 8145\n[instances.a]\nport = 8146\nproviders = [{ type = "antigravity" }]\n${routes}`;
    const dir = tempFiles({ "builtin.toml": base, "own.toml": base + own });
    const builtin = await runGw(["check", "--strict", "-c", join(dir, "builtin.toml")]);
    expect(builtin.code).toBe(0);
    expect(builtin.stderr).toContain("note: cld leaves scenario Economy out of its menu: no route g3p (define [cld.scenarios.NAME] with your routes)");
    expect(builtin.stderr).not.toContain("scenario Performance");
    const json = JSON.parse((await runGw(["check", "--json", "-c", join(dir, "own.toml")])).stdout);
    expect(json.cld_scenarios_left_out).toEqual([{ name: "Mine", missing: ["opus9"] }]);
    expect(json.problems).toEqual([expect.objectContaining({ severity: "warning", path: "cld.scenarios.Mine.opus" })]);
  });

  test("a broken file: FILE:LINE:COL and exit 1", async () => {
    const dir = tempFiles({ "providers.toml": "[global]\nmain_port = 8145\n[routing\n" });
    const r = await runGw(["check", "-c", join(dir, "providers.toml")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/providers\.toml:3:\d+ {2}- {2}error: TOML syntax/);
  });

  test("unknown flags are refused with the valid ones", async () => {
    const r = await runGw(["check", "--stirct"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown flag --stirct for "gw check"');
    expect(r.stderr).toContain("--strict");
  });

  test("--version and a command not built yet", async () => {
    expect((await runGw(["--version"])).stdout.trim()).toBe(pkg.version);
    const r = await runGw(["nosuch"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown command "nosuch"');
  });
});

describe("gw gen", () => {
  test("writes YAML for managed instances; a broken edit leaves them untouched", async () => {
    const dir = setup();
    const ok = await runGw(["gen"], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("wrote     instances/official.yaml");
    const before = readFileSync(join(dir, "instances/relay.yaml"), "utf8");
    expect(before).toContain("api-key: sk-relay-abcdef123456");

    writeFileSync(join(dir, "providers.toml"), EVERY_OLD_KEY.replace('port = 8147', 'port = 8146'));
    const bad = await runGw(["gen"], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/providers\.toml:\d+:\d+ {2}instances\.relay\.port {2}error: port 8146 is also used by instance "official"/);
    expect(bad.stderr).toContain("nothing was changed");
    expect(readFileSync(join(dir, "instances/relay.yaml"), "utf8")).toBe(before);
    expect(readdirSync(join(dir, "instances")).sort()).toEqual(["official.yaml", "relay.yaml"]); // no temp files left
  });
});
