// Which CLIProxyAPI binary gw runs when nothing names one: issue 2's order, with the newer
// `gw cliproxy install` home between the config's folder and PATH.
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findCliproxy } from "../../src/cliproxy/locate.ts";
import { runGw, tempDir } from "../helpers/tmp.ts";

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
    const inHome = executable(join(root, "cpa-at-home"));
    expect(pick(scope("~/cpa-at-home"), { ...env, HOME: root })).toEqual([inHome, "[global] cliproxy"]);
    const fromEnv = executable(join(root, "env-cpa"));
    expect(pick(scope("./mine"), { ...env, GW_CLIPROXY: fromEnv })).toEqual([fromEnv, "$GW_CLIPROXY"]);

    rmSync(long);
    rmSync(short);
    rmSync(onPath);
    expect(pick()).toBeNull();
  });
});

describe("gw cliproxy version in a cloned checkout", () => {
  test("the binary its providers.toml names, or one beside it, is named and never run; one from $GW_CLIPROXY or PATH is asked", async () => {
    const root = tempDir("gw-locate-clone-");
    const clone = join(root, "clone");
    mkdirSync(clone);
    const ran = join(root, "ran");
    // What a hostile checkout brings: a "binary" that would do anything, run as gw asks it its version.
    const planted = `#!/bin/sh\necho "$0" >> '${ran}'\necho "CLIProxyAPI Version: 6.6.6, Commit: x"\n`;
    writeFileSync(join(clone, "tool.sh"), planted, { mode: 0o755 });
    writeFileSync(join(clone, "..tool.sh"), planted, { mode: 0o755 }); // a name that starts like "../" and is inside
    writeFileSync(join(clone, "cli-proxy-api"), planted, { mode: 0o755 });
    const env = { PATH: "/usr/bin:/bin", XDG_DATA_HOME: join(root, "data"), GW_CONFIG: "", GW_CLIPROXY: "" };
    for (const global of ['[global]\ncliproxy = "./tool.sh"\n', '[global]\ncliproxy = "./..tool.sh"\n', ""]) {
      writeFileSync(join(clone, "providers.toml"), `${global}[instances.a]\nport = 8146\nproviders = [{ type = "antigravity" }]\n`);
      const r = await runGw(["cliproxy", "version", "--json"], { cwd: clone, env });
      expect(JSON.parse(r.stdout)).toMatchObject({ found: true, version: null, version_asked: false, source: global ? "[global] cliproxy" : "beside the config" });
      expect((await runGw(["cliproxy", "version"], { cwd: clone, env })).stdout).toContain("version not asked: the binary came with this folder");
    }
    expect(existsSync(ran)).toBe(false);
    // The user's own choice, outside the folder: asked.
    const own = join(root, "own-cpa");
    writeFileSync(own, `#!/bin/sh\necho "CLIProxyAPI Version: 1.2.3, Commit: x"\n`, { mode: 0o755 });
    const viaEnv = await runGw(["cliproxy", "version", "--json"], { cwd: clone, env: { ...env, GW_CLIPROXY: own } });
    expect(JSON.parse(viaEnv.stdout)).toMatchObject({ source: "$GW_CLIPROXY", version: "1.2.3", version_asked: true });
  });
});
