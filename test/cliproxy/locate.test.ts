// Which CLIProxyAPI binary gw runs when nothing names one: issue 2's order, with the newer
// `gw cliproxy install` home between the config's folder and PATH.
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findCliproxy } from "../../src/cliproxy/locate.ts";
import { tempDir } from "../helpers/tmp.ts";

function executable(path: string): string {
  writeFileSync(path, "#!/bin/sh\nexit 0\n");
  chmodSync(path, 0o755);
  return path;
}

describe("findCliproxy", () => {
  test("$GW_CLIPROXY, then [global] cliproxy, then ./cli-proxy-api, then ./cliproxy beside the config, then PATH", () => {
    const root = tempDir("gw-locate-");
    const dir = join(root, "cfg");
    const bin = join(root, "bin");
    mkdirSync(dir);
    mkdirSync(bin);
    const onPath = executable(join(bin, "cli-proxy-api"));
    const env = { PATH: bin, XDG_DATA_HOME: join(root, "data") }; // no `gw cliproxy install` there
    const scope = (cliproxy = "") => ({ dir, global: { cliproxy } });
    const pick = (s = scope(), e: Record<string, string> = env) => {
      const f = findCliproxy(s, e);
      return f && [f.path, f.source];
    };

    expect(pick()).toEqual([onPath, "PATH"]);
    const short = executable(join(dir, "cliproxy"));
    expect(pick()).toEqual([short, "beside the config"]);
    const long = executable(join(dir, "cli-proxy-api"));
    expect(pick()).toEqual([long, "beside the config"]);
    const named = executable(join(dir, "mine"));
    expect(pick(scope("./mine"))).toEqual([named, "[global] cliproxy"]);
    const fromEnv = executable(join(root, "env-cpa"));
    expect(pick(scope("./mine"), { ...env, GW_CLIPROXY: fromEnv })).toEqual([fromEnv, "$GW_CLIPROXY"]);

    rmSync(long);
    rmSync(short);
    rmSync(onPath);
    expect(pick()).toBeNull();
  });
});
