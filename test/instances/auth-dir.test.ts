// Auth dirs that already exist open to other users (made by hand or by the old setup, holding
// OAuth credentials 0644): gw gen makes them private — the dir 0700, the user's own files in it
// 0600 — without following a link, and leaves a dir that is someone else's as it is, saying so.
import { describe, expect, test } from "bun:test";
import { chmodSync, chownSync, lstatSync, mkdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runGw, tempDir } from "../helpers/tmp.ts";

const mode = (p: string) => lstatSync(p).mode & 0o7777;
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

/** A folder with instance a (antigravity) whose auth dir is `authDir` (relative to the folder, or absolute). */
function folder(authDir = "auths/a"): string {
  const dir = tempDir("gw-authdir-");
  writeFileSync(join(dir, "providers.toml"), `[global]\nmain_port = 18145\nhost = "127.0.0.1"\n[instances.a]\nport = 18146\nauth_dir = "${authDir}"\nproviders = [{ type = "antigravity" }]\n`);
  return dir;
}

/** An open directory with an open credential in it, as the old setup left them. */
function openDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, "antigravity-ana@example.com.json"), '{"type":"antigravity","refresh_token":"1//r"}\n', { mode: 0o644 });
  chmodSync(join(dir, "antigravity-ana@example.com.json"), 0o644);
  return dir;
}

describe("gw gen and an auth dir that already exists open to other users", () => {
  test("the dir becomes 0700 and the user's own credential 0600; a link in it is not followed; the read-only bits are never added", async () => {
    const dir = folder();
    const auth = openDir(join(dir, "auths/a"));
    const outside = join(dir, "outside.json");
    writeFileSync(outside, "{}\n");
    chmodSync(outside, 0o644);
    symlinkSync(outside, join(auth, "linked.json"));
    writeFileSync(join(auth, "readonly.json"), "{}\n");
    chmodSync(join(auth, "readonly.json"), 0o444);
    const r = await runGw(["gen", "-c", join(dir, "providers.toml")]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect([mode(auth), mode(join(auth, "antigravity-ana@example.com.json")), mode(join(auth, "readonly.json")), mode(outside)]).toEqual([0o700, 0o600, 0o400, 0o644]);
  });

  test("an auth dir that is a link to an open dir: nothing changed through it, one line says so", async () => {
    const dir = folder();
    const target = openDir(join(dir, "elsewhere"));
    mkdirSync(join(dir, "auths"));
    symlinkSync(target, join(dir, "auths/a"));
    const r = await runGw(["gen", "-c", join(dir, "providers.toml")]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`${join(dir, "providers.toml")}  instances.a  warning: ${join(dir, "auths/a")} is a link to an auth dir other users can read (mode 0755); gw changes nothing through a link — make the directory it leads to private (chmod 700)\n`);
    expect([mode(target), mode(join(target, "antigravity-ana@example.com.json"))]).toEqual([0o755, 0o644]);
  });

  test("an open auth dir owned by someone else is left as it is, and one line says so", async () => {
    // As root, a dir given to nobody; as another user, /tmp: root's, and open to all.
    const foreign = isRoot ? openDir(join(tempDir("gw-authdir-foreign-"), "auth")) : "/tmp";
    if (isRoot) chownSync(foreign, NOBODY, NOBODY);
    const before = [mode(foreign), statSync(foreign).uid];
    const dir = folder(foreign);
    const r = await runGw(["gen", "-c", join(dir, "providers.toml")]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`${join(dir, "providers.toml")}  instances.a  warning: ${foreign}: auth dir owned by uid ${before[1]}, open to other users (mode ${before[0]!.toString(8).padStart(4, "0")}); gw changes no one else's directory — its owner can make it private (chmod 700)\n`);
    expect([mode(foreign), statSync(foreign).uid]).toEqual(before);
    if (isRoot) expect(mode(join(foreign, "antigravity-ana@example.com.json"))).toBe(0o644);
  });

  test("auth_dir pointed at a folder holding more than credentials (the config's own, a home, /etc for a gw run as root): nothing in it changes, one line says so", async () => {
    const dir = folder(".");
    chmodSync(dir, 0o755);
    chmodSync(join(dir, "providers.toml"), 0o644);
    openDir(dir);
    const r = await runGw(["gen", "-c", join(dir, "providers.toml")]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`${join(dir, "providers.toml")}  instances.a  warning: ${dir}: auth dir open to other users (mode 0755), and it holds .gw, no credential: gw makes private only a folder of credentials alone — give the logins a folder of their own, or make this one private yourself (chmod 700)\n`);
    expect([mode(dir), mode(join(dir, "providers.toml")), mode(join(dir, "antigravity-ana@example.com.json"))]).toEqual([0o755, 0o644, 0o644]);
  });
});
