// `[global] state` / `state_prefix` and `$GW_STATE`: the default, each backend, and every wrong
// value named at its place (or as $GW_STATE) with the fix; a Redis password never shown.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import { describeState } from "../../src/config/state.ts";
import { secretsOf } from "../../src/observe/config-secrets.ts";
import { readFileSync, writeFileSync } from "node:fs";
import { gwPaths } from "../../src/supervisor/paths.ts";
import { gw, killAll, sandbox, untilLogged } from "../helpers/supervisor.ts";
import { runGw, tempFiles } from "../helpers/tmp.ts";

const BASE = (global: string) => `[global]
main_port = 8145
host = "127.0.0.1"
${global}
[instances.a]
port = 8146
providers = [{ type = "antigravity" }]
`;

const load = (global: string, env: Record<string, string> = {}) => parseConfig(BASE(global), "/srv/gw/providers.toml", env);
const stateOf = (global: string, env?: Record<string, string>) => {
  const { config, problems } = load(global, env);
  expect(problems).toEqual([]);
  return config!.global.state;
};

describe("[global] state", () => {
  test("default: the SQLite file .gw/state.db beside the config", () => {
    expect(stateOf("")).toEqual({ kind: "local", file: "/srv/gw/.gw/state.db" });
    expect(stateOf('state = "local"')).toEqual({ kind: "local", file: "/srv/gw/.gw/state.db" });
  });

  test('"memory", and a redis:// or rediss:// URL with the prefix (default "gw")', () => {
    expect(stateOf('state = "memory"')).toEqual({ kind: "memory" });
    expect(stateOf('state = "redis://10.0.0.5:6379/2"')).toEqual({ kind: "redis", url: "redis://10.0.0.5:6379/2", prefix: "gw" });
    expect(stateOf('state = "rediss://cache.internal"\nstate_prefix = "team-a"')).toEqual({ kind: "redis", url: "rediss://cache.internal", prefix: "team-a" });
  });

  test("$GW_STATE overrides the file, ${VAR} works in it", () => {
    expect(stateOf('state = "memory"', { GW_STATE: "redis://r:6379" })).toMatchObject({ kind: "redis", url: "redis://r:6379" });
    expect(stateOf('state = "${STATE_URL}"', { STATE_URL: "redis://r:6380" })).toMatchObject({ kind: "redis", url: "redis://r:6380" });
  });

  test("a wrong value is an error at its line and column, with the values that work", () => {
    for (const [value, message] of [
      ["sqlite", '"sqlite" is not a state backend'],
      ["redis://", '"redis://" names no host'],
      ["redis://host:6379/cache", "the path must be a database number"],
      ["http://host:6379", "is not a state backend"],
      ["redis://host:6379?db=3", '"redis://host:6379?db=3": ?db= is not read; put the database in the path: redis://HOST:PORT/3'],
    ] as const) {
      const { config, problems } = load(`state = "${value}"`);
      expect(config).toBeNull();
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatchObject({ severity: "error", path: "global.state", line: 4, col: 1 });
      expect(problems[0]!.message).toContain(message);
      expect(problems[0]!.hint).toContain('"local"');
    }
  });

  test("a database past Redis's default 16 is a warning: gw's SELECT would fail unless the server has more", () => {
    expect(load('state = "redis://r:6379/15"').problems).toEqual([]);
    const { config, problems } = load('state = "redis://r:6379/16"');
    expect(config!.global.state).toMatchObject({ kind: "redis", url: "redis://r:6379/16" });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ severity: "warning", path: "global.state", message: expect.stringContaining("names Redis database 16, and a Redis keeps 16 (0–15)") });
    expect(problems[0]!.hint).toBe("use a database from 0 to 15, or raise `databases` in redis.conf");
  });

  test("a wrong $GW_STATE names $GW_STATE", () => {
    const { problems } = load("", { GW_STATE: "redis-cluster" });
    expect(problems[0]!.message).toBe('$GW_STATE "redis-cluster" is not a state backend');
  });

  test("a Redis password is never shown, and the masker knows it", () => {
    const url = "redis://default:s3cret-pass-word-1234@r:6379/0";
    const { problems } = load(`state = "${url.replace("/0", "/x")}"`);
    expect(JSON.stringify(problems)).not.toContain("s3cret");
    const { config } = load(`state = "${url}"`);
    expect(describeState(config!.global.state)).toBe("redis redis://r:6379/0 (prefix gw)");
    expect(secretsOf(config!)).toContain("s3cret-pass-word-1234");
    // Redis before 6 has no users: a password alone (redis://:PASSWORD@host) is hidden too.
    const { config: noUser } = load(`state = "redis://:s3cret-pass-word-1234@r:6379/0"`);
    expect(describeState(noUser!.global.state)).toBe("redis redis://r:6379/0 (prefix gw)");
    const { config: userOnly } = load(`state = "redis://alice@r:6379/0"`);
    expect(describeState(userOnly!.global.state)).toBe("redis redis://r:6379/0 (prefix gw)"); // shown with no user either
  });

  test("a password that breaks the URL (a generated one with / or #) is not shown either, and the message says to percent-encode it", () => {
    for (const pw of ["s3c/ret+pw=", "s3c#ret", "s3c?ret", "a/b@c"]) {
      const { problems } = load(`state = "rediss://default:${pw}@cache.internal:6380/0"`);
      expect(problems).toHaveLength(1);
      expect(problems[0]!.message).toBe('state "rediss://***@cache.internal:6380/0" is not a valid URL: percent-encode / ? # @ in its password (%2F %3F %23 %40)');
    }
    expect(stateOf('state = "rediss://default:s3c%2Fret%2Bpw%3D@cache.internal:6380/0"')).toMatchObject({ kind: "redis" });
  });

  test("a URL missing a slash (redis:/:PASSWORD@host) reads its userinfo as a path: the password is hidden all the same", () => {
    for (const url of ["redis:/:secretZ-pw@h", "redis::secretZ-pw@h:6379", "redis:secretZ-pw@h"]) {
      const { problems } = load(`state = "${url}"`);
      expect(problems.map((p) => p.message).join("\n")).not.toContain("secretZ");
      expect(problems[0]!.message).toContain("***@h");
    }
  });

  test("a mistyped scheme (redis//, rediss//, redis;//) or none: the password is hidden all the same (redis// showed it whole)", () => {
    expect(load('state = "redis//:LiteralPw99@127.0.0.1:6379"').problems[0]!.message).toBe('state "redis//:***@127.0.0.1:6379" is not a state backend');
    expect(load("", { GW_STATE: "rediss//default:EnvPw77@cache:6380" }).problems[0]!.message).toBe('$GW_STATE "rediss//***@cache:6380" is not a state backend');
    for (const url of ["redis//default:secretZ-pw@h", "redis;//:secretZ-pw@h", ":secretZ-pw@h:6379", "secretZ-pw@h", "//:secretZ-pw@h", "redis//:secretZ/pw@x@h"]) {
      const { problems } = load(`state = "${url}"`);
      expect(problems).toHaveLength(1);
      expect(problems[0]!.message).not.toContain("secretZ");
      expect(problems[0]!.message).toContain('***@h');
    }
  });

  test("an unset ${VAR} in the URL is an error (it may carry a password)", () => {
    const { problems } = load('state = "redis://:${REDIS_PASSWORD}@r:6379"');
    expect(problems[0]).toMatchObject({ severity: "error", path: "global.state" });
  });

  test("state_prefix: a bad one is an error; one without Redis a warning", () => {
    const bad = load('state = "redis://r"\nstate_prefix = "a b*"').problems;
    expect(bad).toMatchObject([{ severity: "error", path: "global.state_prefix", line: 5 }]);
    const unused = load('state_prefix = "x"').problems;
    expect(unused).toMatchObject([{ severity: "warning", path: "global.state_prefix" }]);
  });
});

test("gw check prints a bad state as FILE:LINE:COL and exits 1", async () => {
  const dir = tempFiles({ "providers.toml": BASE('state = "mysql://db"') });
  const r = await runGw(["check", "-c", join(dir, "providers.toml")], { cwd: dir, env: { GW_STATE: "" } });
  expect(r.code).toBe(1);
  expect(r.stdout + r.stderr).toMatch(/providers\.toml:4:1 {2}global\.state {2}error: state "mysql:\/\/db" is not a state backend {2}\(use "local"/);
});

test("a mistyped Redis URL's password is shown by no command: gw check, --json, gw up, gw reload, gw.log", async () => {
  const literal = "redis//:LiteralPw99@127.0.0.1:6379";
  const dir = tempFiles({ "providers.toml": BASE(`state = "${literal}"`) });
  const file = join(dir, "providers.toml");
  const outputs: string[] = [];
  for (const args of [["check"], ["check", "--json"], ["up"]]) {
    for (const GW_STATE of ["", "rediss//default:EnvPw77@cache:6380"]) {
      const r = await runGw([...args, "-c", file], { cwd: dir, env: { GW_STATE } });
      expect(r.code).toBe(1);
      outputs.push(r.stdout + r.stderr);
    }
  }
  expect(outputs.join("\n")).toContain('state \\"redis//:***@127.0.0.1:6379\\" is not a state backend'); // --json
  expect(outputs[4]).toContain('error: state "redis//:***@127.0.0.1:6379" is not a state backend'); // gw up
  expect(outputs[5]).toContain('error: $GW_STATE "rediss//***@cache:6380" is not a state backend');

  // A running gw whose file is edited so: gw reload and the file watch's lines in gw.log.
  const sb = await sandbox([{ name: "a" }]);
  try {
    expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
    writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace("shutdown_grace_ms", `state = "${literal}"\nshutdown_grace_ms`));
    const reload = await gw(sb, ["reload", "-c", sb.file]);
    expect(reload.code).toBe(1);
    outputs.push(reload.stdout + reload.stderr);
    await untilLogged(sb, 'state "redis//:***@127.0.0.1:6379" is not a state backend', 2); // gw reload's, the watch's
    outputs.push(readFileSync(gwPaths(sb.dir).gwLog, "utf8"));
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
  } finally {
    await killAll(sb);
  }
  for (const out of outputs) {
    expect(out).not.toContain("LiteralPw99");
    expect(out).not.toContain("EnvPw77");
  }
}, 60_000);
