// `gw cliproxy install|version` against a local server laid out like CLIProxyAPI's GitHub
// releases (test/helpers/release.ts): 9.9.9 is the latest and sound, 9.9.8's checksums.txt
// does not match its archive.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { assetName, parseChecksums, versionOfAsset } from "../../src/cliproxy/release.ts";
import { STALE_TEMP_MS } from "../../src/fs/temp-files.ts";
import { asset, fakeBinary, fakeReleases, releaseArchive } from "../helpers/release.ts";
import { runGw, tempDir } from "../helpers/tmp.ts";

const releases = await fakeReleases(["9.9.9", "9.9.8"], "9.9.9", ["9.9.8"]);
afterAll(() => releases.stop());
const { base, files, requests } = releases;

/** A fresh user: its own data directory, no config, releases from the fake server. */
function user() {
  const root = tempDir("gw-cliproxy-");
  const dir = join(root, "work"); // the data directory is not below it: messages show it whole
  mkdirSync(dir);
  const env = { XDG_DATA_HOME: join(root, "data"), GW_CLIPROXY_RELEASES: base, GW_CLIPROXY: undefined, GW_CONFIG: undefined, PATH: "/usr/bin:/bin" };
  const home = join(root, "data", "gw", "cliproxy");
  return { dir, env, home, run: (args: string[]) => runGw(args, { cwd: dir, env }) };
}

describe("release facts", () => {
  test("asset names follow the release workflow: amd64 / aarch64, no-plugin only for FreeBSD arm64", () => {
    expect(assetName("7.2.140", "linux", "x64")).toEqual({ name: "CLIProxyAPI_7.2.140_linux_amd64.tar.gz" });
    expect(assetName("7.2.140", "darwin", "arm64")).toEqual({ name: "CLIProxyAPI_7.2.140_darwin_aarch64.tar.gz" });
    expect(assetName("7.2.140", "freebsd", "arm64")).toEqual({ name: "CLIProxyAPI_7.2.140_freebsd_aarch64_no-plugin.tar.gz" });
    expect(assetName("7.2.140", "win32", "x64")).toHaveProperty("error");
    expect(versionOfAsset("/x/CLIProxyAPI_7.2.140_linux_aarch64.tar.gz")).toBe("7.2.140");
    expect(versionOfAsset("cli-proxy-api")).toBeNull();
  });

  test("checksums.txt in sha256sum's text and binary forms", () => {
    const a = "a".repeat(64);
    const b = "B".repeat(64);
    const sums = parseChecksums(`${a}  CLIProxyAPI_1.0.0_linux_amd64.tar.gz\n${b} *CLIProxyAPI_1.0.0_darwin_amd64.tar.gz\nnot a line\n`);
    expect([...sums]).toEqual([
      ["CLIProxyAPI_1.0.0_linux_amd64.tar.gz", a],
      ["CLIProxyAPI_1.0.0_darwin_amd64.tar.gz", "b".repeat(64)],
    ]);
  });
});

describe("gw cliproxy install", () => {
  test("latest release: downloaded, verified, installed as current, and used by a config that names no binary", async () => {
    const u = user();
    const r = await u.run(["cliproxy", "install"]);
    expect(r.stderr).toContain("latest CLIProxyAPI release: v9.9.9");
    expect(r.stderr).toContain(`downloading ${asset("9.9.9")}`);
    expect(r.stderr).toContain("checksum ok");
    expect(r.code).toBe(0);
    const bin = join(u.home, "9.9.9", "cli-proxy-api");
    expect(r.stdout).toContain(`installed CLIProxyAPI 9.9.9 → ${bin}`);
    expect(statSync(bin).mode & 0o111).not.toBe(0);
    expect(lstatSync(join(u.home, "current")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(u.home, "current"))).toBe("9.9.9");
    // Only the binary was taken from the archive.
    expect(existsSync(join(u.home, "9.9.9", "LICENSE"))).toBe(false);

    // A config that names no binary runs the installed one; `version` says which and why.
    writeFileSync(join(u.dir, "providers.toml"), `[instances.a]\nport = 8146\nproviders = [{ type = "antigravity" }]\n`);
    const v = await u.run(["cliproxy", "version"]);
    expect(v.code).toBe(0);
    expect(v.stdout).toBe(`CLIProxyAPI 9.9.9 — ${join(u.home, "current", "cli-proxy-api")} (installed by gw cliproxy install)\ninstalled by gw: 9.9.9 (current)\n`);
    const gen = await u.run(["check"]);
    expect(gen.code).toBe(0);
    expect(gen.stderr).not.toContain("binary");

    // $GW_CLIPROXY and [global] cliproxy still win over it.
    const own = join(u.dir, "own-cliproxy");
    writeFileSync(own, fakeBinary("1.2.3"), { mode: 0o755 });
    const viaEnv = await runGw(["cliproxy", "version", "--json"], { cwd: u.dir, env: { ...u.env, GW_CLIPROXY: own } });
    expect(JSON.parse(viaEnv.stdout)).toMatchObject({ found: true, path: own, source: "$GW_CLIPROXY", version: "1.2.3", current: "9.9.9" });
    writeFileSync(join(u.dir, "providers.toml"), `[global]\ncliproxy = "./own-cliproxy"\n[instances.a]\nport = 8146\nproviders = [{ type = "antigravity" }]\n`);
    // One the folder brings is named, not run (test/cliproxy/locate.test.ts: a cloned checkout's).
    expect((await u.run(["cliproxy", "version"])).stdout).toStartWith(`CLIProxyAPI (version not asked: the binary came with this folder, and only gw up runs it; its -h says it) — own-cliproxy (from [global] cliproxy)`);
    // A newcomer's config with errors elsewhere (a key still unset) still names its binary.
    writeFileSync(join(u.dir, "providers.toml"), `[global]\ncliproxy = "./own-cliproxy"\napi_keys = ["\${NOT_SET_HERE}"]\n[instances.a]\nport = 8146\nproviders = [{ type = "antigravity" }]\n`);
    expect((await u.run(["check"])).code).toBe(1);
    const withErrors = await u.run(["cliproxy", "version"]);
    expect([withErrors.code, withErrors.stdout.split(" — ")[1]]).toEqual([0, "own-cliproxy (from [global] cliproxy)\ninstalled by gw: 9.9.9 (current)\n"]);
  }, 30_000);

  test("a checksum that does not match is refused and nothing is installed", async () => {
    const u = user();
    const good = await u.run(["cliproxy", "install", "9.9.9"]);
    expect(good.code).toBe(0);
    const r = await u.run(["cliproxy", "install", "v9.9.8"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`gw: checksum mismatch for ${asset("9.9.8")}: expected sha256 `);
    expect(r.stderr).toContain("refusing to install it");
    expect(existsSync(join(u.home, "9.9.8"))).toBe(false);
    expect(readlinkSync(join(u.home, "current"))).toBe("9.9.9"); // the previous install stays in use
  }, 30_000);

  test("a version that was never released, and an unreachable release server, say what to do", async () => {
    const u = user();
    const missing = await u.run(["cliproxy", "install", "1.0.0"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`gw: CLIProxyAPI v1.0.0 not found at ${base} (no checksums.txt)`);
    const down = await runGw(["cliproxy", "install"], { cwd: u.dir, env: { ...u.env, GW_CLIPROXY_RELEASES: "http://127.0.0.1:1/releases" } });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("cannot reach http://127.0.0.1:1/releases");
    expect(down.stderr).toContain("gw cliproxy install --from FILE");
    expect((await u.run(["cliproxy", "install", "nonsense"])).stderr).toContain('"nonsense" is not a CLIProxyAPI version');
  }, 30_000);

  test("--from FILE for offline machines: checked against checksums.txt beside it when there is one", async () => {
    const u = user();
    const dl = join(u.dir, "downloads");
    mkdirSync(dl);
    const name = asset("9.9.9");
    writeFileSync(join(dl, name), files.get(`/releases/download/v9.9.9/${name}`)!);
    const unverified = await u.run(["cliproxy", "install", "--from", join(dl, name)]);
    expect(unverified.code).toBe(0);
    expect(unverified.stderr).toContain(`not verified: no checksums.txt beside ${name}`);

    writeFileSync(join(dl, "checksums.txt"), files.get("/releases/download/v9.9.9/checksums.txt")!);
    const verified = await u.run(["cliproxy", "install", "--from", join(dl, name)]);
    expect(verified.code).toBe(0);
    expect(verified.stderr).toContain("checksum ok");

    writeFileSync(join(dl, name), await releaseArchive("6.6.6")); // same name, other bytes
    const tampered = await u.run(["cliproxy", "install", "--from", join(dl, name)]);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain("checksum mismatch");

    const renamed = join(dl, "cliproxy.tgz");
    writeFileSync(renamed, "x");
    expect((await u.run(["cliproxy", "install", "--from", renamed])).stderr).toContain('cannot tell the CLIProxyAPI version from "cliproxy.tgz"');
    expect(requests.filter((p) => p.includes("downloads"))).toEqual([]);
  }, 30_000);

  test("the link a killed install left under a temp name beside current goes at the next install; current is switched by a fresh one", async () => {
    const u = user();
    mkdirSync(u.home, { recursive: true });
    const left = join(u.home, "current.tmp-AAAAAAAAAAAA");
    symlinkSync("9.9.8", left);
    const old = (Date.now() - STALE_TEMP_MS - 60_000) / 1000;
    lutimesSync(left, old, old);
    const name = asset("9.9.9");
    writeFileSync(join(u.dir, name), files.get(`/releases/download/v9.9.9/${name}`)!);
    expect((await u.run(["cliproxy", "install", "--from", join(u.dir, name)])).code).toBe(0);
    expect(readdirSync(u.home).sort()).toEqual(["9.9.9", "current"]);
    expect(readlinkSync(join(u.home, "current"))).toBe("9.9.9");
  }, 30_000);

  test("--from URL needs checksums.txt beside it", async () => {
    const u = user();
    const ok = await u.run(["cliproxy", "install", "--from", `${base}/download/v9.9.9/${asset("9.9.9")}`]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain("checksum ok");
    const bad = await u.run(["cliproxy", "install", "--from", `${base}/download/v9.9.8/${asset("9.9.8")}`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("checksum mismatch");
  }, 30_000);
});
