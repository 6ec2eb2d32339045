// gw login reads the instance's auth dir before and after the login to tell what it saved. An
// auth dir as users keep them — a link left to a file that moved away — must not stop it.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, symlinkSync } from "node:fs";
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
