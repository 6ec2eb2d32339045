// gw login offers every OAuth login CLIProxyAPI has, plain Gemini included: `gw login NAME gemini`
// runs the binary with -login (and -project_id); a current CLIProxyAPI (here gw mock, faithful to
// it) no longer has that flag, and gw then says what to use instead.
import { afterAll, expect, test } from "bun:test";
import { gw, killAll, type Sandbox, sandbox } from "../helpers/supervisor.ts";

const cleanups: Sandbox[] = [];
afterAll(async () => {
  for (const sb of cleanups) await killAll(sb);
});

test("gemini: -login reaches the binary; a build without it gets the way forward", async () => {
  const sb = await sandbox([{ name: "a" }]);
  cleanups.push(sb);
  const r = await gw(sb, ["login", "a", "gemini", "--project-id", "my-proj", "--no-browser", "-c", sb.file]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("-login (Gemini CLI) was removed from CLIProxyAPI"); // the binary's own words
  expect(r.stderr).toContain("gw: login for instance 'a' failed");
  expect(r.stderr).toContain("CLIProxyAPI v7.2.20 and later have no Gemini CLI login: use antigravity");
});

test("a provider with no login names the instance's own logins, and --project-id belongs to gemini", async () => {
  const sb = await sandbox([{ name: "a" }]);
  cleanups.push(sb);
  const unknown = await gw(sb, ["login", "a", "qwen", "-c", sb.file]);
  expect(unknown.stderr).toContain('gw: "qwen" has no login\n  log in to what it has: gw login a antigravity\n');
  const wrong = await gw(sb, ["login", "a", "codex", "--project-id", "p", "-c", sb.file]);
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).toContain("--project-id is for the gemini login only");
});
