// The host's .env when a deploy carries none (the user deleted it here): the upload was checked
// without it, so the gw that starts must not load the old one — but only a .env gw shipped, unchanged
// since, may go. installScript and restoreScript run with sh on temp dirs, as on the host.
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type HostPaths, hostPaths, installScript, restoreScript } from "../../src/deploy/scripts.ts";
import { tempDir } from "../helpers/tmp.ts";

/** One deploy's upload (files by name) installed into `host`, as installScript does it there. */
function install(host: HostPaths, upload: Record<string, string>): string {
  mkdirSync(host.next, { recursive: true });
  for (const [name, text] of Object.entries(upload)) writeFileSync(join(host.next, name), text);
  const r = Bun.spawnSync(["sh", "-c", installScript(host, null)], { stderr: "pipe" });
  expect(r.stderr.toString()).toBe("");
  expect(r.exitCode).toBe(0);
  return r.stdout.toString();
}

const CONFIG = "[global]\n";
const env = (host: HostPaths) => join(host.dir, ".env");

test("a .env gw deployed and nobody changed there goes when a deploy has none; a rollback puts it (and its record) back", () => {
  const host = hostPaths(tempDir("gw-deploy-env-"));
  expect(install(host, { "providers.toml": CONFIG, ".env": "SECRET=old\n" })).toBe("");
  expect(readFileSync(env(host), "utf8")).toBe("SECRET=old\n");

  const said = install(host, { "providers.toml": CONFIG });
  expect(existsSync(env(host))).toBe(false);
  expect(said).toBe(`${env(host)} removed: gw deployed it and this deploy has none (the copy is in ${host.previous} until the next deploy)\n`);

  const r = Bun.spawnSync(["sh", "-c", restoreScript(host, null)], { stderr: "pipe" });
  expect(r.exitCode).toBe(0);
  expect(readFileSync(env(host), "utf8")).toBe("SECRET=old\n");
  // Still gw's own after the rollback: the next deploy without one removes it again.
  expect(install(host, { "providers.toml": CONFIG })).toContain("removed");
  expect(existsSync(env(host))).toBe(false);
});

test("a .env gw deployed but changed there since is kept, in one line that says why", () => {
  const host = hostPaths(tempDir("gw-deploy-env-"));
  install(host, { "providers.toml": CONFIG, ".env": "SECRET=old\n" });
  writeFileSync(env(host), "SECRET=old\nEXTRA=set-on-the-host\n");
  const said = install(host, { "providers.toml": CONFIG });
  expect(readFileSync(env(host), "utf8")).toBe("SECRET=old\nEXTRA=set-on-the-host\n");
  expect(said).toBe(`${env(host)} kept: it was changed there after gw deployed it; this deploy has no .env (gw check there ran without it); remove it there yourself if gw should run without it\n`);
});

test("a .env written on the host by hand (gw never shipped one) is never removed", () => {
  const host = hostPaths(tempDir("gw-deploy-env-"));
  install(host, { "providers.toml": CONFIG });
  writeFileSync(env(host), "SECRET=by-hand\n");
  const said = install(host, { "providers.toml": CONFIG });
  expect(readFileSync(env(host), "utf8")).toBe("SECRET=by-hand\n");
  expect(said).toStartWith(`${env(host)} kept: gw did not deploy it (no record that it did);`);
  expect(said.trimEnd().split("\n")).toHaveLength(1);
});

test("a .env gw deployed, then one written by hand in its place after it was removed: kept", () => {
  const host = hostPaths(tempDir("gw-deploy-env-"));
  install(host, { "providers.toml": CONFIG, ".env": "SECRET=old\n" });
  install(host, { "providers.toml": CONFIG });
  writeFileSync(env(host), "SECRET=old\n"); // the same text, but gw no longer claims it
  expect(install(host, { "providers.toml": CONFIG })).toContain("kept: gw did not deploy it");
  expect(readFileSync(env(host), "utf8")).toBe("SECRET=old\n");
});
