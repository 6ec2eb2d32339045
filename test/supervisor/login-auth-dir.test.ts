// gw login reads the instance's auth dir before and after the login to tell what it saved. An
// auth dir as users keep them — a link left to a file that moved away — must not stop it. One left
// open to other users (the old setup's 0755, credentials 0644) is made private wherever gw writes
// the instance files: gw up, gw reload, gw login.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, lstatSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gw, killAll, type Sandbox, sandbox } from "../helpers/supervisor.ts";

const cleanups: Sandbox[] = [];
afterAll(async () => {
  for (const sb of cleanups) await killAll(sb);
});

test("a dangling link and a link loop in the auth dir: the login runs and says what it saved (it stopped with ENOENT before the login)", async () => {
  const sb = await sandbox([{ name: "a" }]);
  cleanups.push(sb);
  const auth = join(sb.dir, "auths/a");
  mkdirSync(auth, { recursive: true });
  symlinkSync(join(sb.dir, "moved-away.json"), join(auth, "old.json"));
  symlinkSync(join(auth, "loop.json"), join(auth, "loop.json"));
  const r = await gw(sb, ["login", "a", "antigravity", "--no-browser", "-c", sb.file]);
  expect(r.stdout).toContain("gw mock: -antigravity-login would print the OAuth URL");
  expect(r.stderr).toStartWith(`gw: no new credential in ${auth}`);
  expect(r.code).toBe(1);
});

test("a .env planted in instances/a/ (CLIProxyAPI loads it, and the login runs there): gw login refuses in one line naming it, and runs no login", async () => {
  const sb = await sandbox([{ name: "a" }]);
  cleanups.push(sb);
  const env = join(sb.dir, "instances/a/.env");
  mkdirSync(join(env, ".."), { recursive: true, mode: 0o700 });
  writeFileSync(env, "GITSTORE_GIT_URL=https://elsewhere.example/logins.git\n");
  const r = await gw(sb, ["login", "a", "antigravity", "--no-browser", "-c", sb.file]);
  expect(r.stdout).not.toContain("gw mock: -antigravity-login");
  expect(r.stderr).toStartWith(`gw: ${env}: CLIProxyAPI loads a .env in its working directory into its environment`);
  expect(r.code).toBe(1);
});

test("an auth dir open to other users is made private by gw up, again by gw reload and by gw login (dir 0700, credentials 0600)", async () => {
  const sb = await sandbox([{ name: "a" }]);
  cleanups.push(sb);
  const auth = join(sb.dir, "auths/a");
  const cred = join(auth, "antigravity-ana@example.com.json");
  const open = () => {
    mkdirSync(auth, { recursive: true });
    chmodSync(auth, 0o755);
    writeFileSync(cred, '{"type":"antigravity","refresh_token":"1//r"}\n');
    chmodSync(cred, 0o644);
  };
  const modes = () => [lstatSync(auth).mode & 0o777, lstatSync(cred).mode & 0o777];
  open();
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  expect(modes()).toEqual([0o700, 0o600]);
  open();
  expect((await gw(sb, ["reload", "-c", sb.file])).code).toBe(0);
  expect(modes()).toEqual([0o700, 0o600]);
  open();
  const login = await gw(sb, ["login", "a", "antigravity", "--no-browser", "-c", sb.file]);
  expect(login.stderr).toStartWith(`gw: no new credential in ${auth}`); // the mock's login saves none
  expect(modes()).toEqual([0o700, 0o600]);
  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
}, 60_000);
