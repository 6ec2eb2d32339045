// cld with HOME on a full disk (a small tmpfs in a user + mount namespace, test/helpers/full-disk.ts).
import { expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CldSandbox, cldConfig, gatewayForFile, MAIN } from "../helpers/cld.ts";
import { fullDisksForFile } from "../helpers/full-disk.ts";

const fullDisk = fullDisksForFile(); // closed first, as the sandbox they are in is removed next
const gateway = gatewayForFile();

test("cld cp with HOME on a full disk: one line on what it cannot write, Claude Code starts, no file left half or emptied", async () => {
  const box = new CldSandbox();
  const toml = box.writeConfig("gw.toml", cldConfig(gateway.port!, `api_keys = ["sk-gateway-key-0123456789"]`));
  const disk = await fullDisk(box.home, join(box.dir, "ctl"), "1m");
  const home = (p: string) => disk.view(join(box.home, p));
  const cld = (...args: string[]) => disk.run([process.execPath, MAIN, "cld", ...args], box.env({ CLD_TOML: toml }));
  // The user's own file, and cld's from an earlier launch in a folder not trusted yet: there is something to merge.
  const own = JSON.stringify({ theme: "light", projects: { [box.dir]: { hasTrustDialogAccepted: true } } });
  writeFileSync(home(".claude.json"), own);
  mkdirSync(home(".cache/cld/cp"), { recursive: true });
  const earlier = JSON.stringify({ hasCompletedOnboarding: true, numStartups: 3 });
  writeFileSync(home(".cache/cld/cp/.claude.json"), earlier);
  writeFileSync(home(".cache/cld/cp/last_main"), "g3p\n");
  disk.fill();

  const r = await cld("cp", "g3f", "-p", "x");
  expect(r.stderr).toContain(`\ncld: cannot write ${join(box.home, ".cache/cld/cp/.claude.json")}: no space left on the device — Claude Code starts with it as it was\n`);
  expect(r.stderr).not.toContain("    at ");
  expect(r.stdout).toBe("fake claude ran\n");
  expect(r.code).toBe(0);
  expect(readFileSync(home(".claude.json"), "utf8")).toBe(own);
  expect(readFileSync(home(".cache/cld/cp/.claude.json"), "utf8")).toBe(earlier);
  expect(readFileSync(home(".cache/cld/cp/last_main"), "utf8")).toBe("g3p\n"); // not emptied by a write that found no room
  expect(readdirSync(home(""), { recursive: true }).map(String).filter((n) => n.includes(".tmp-"))).toEqual([]);

  disk.free();
  expect((await cld("cp", "g3f", "-p", "x")).stderr).not.toContain("cannot write");
  expect(JSON.parse(readFileSync(home(".cache/cld/cp/.claude.json"), "utf8"))).toMatchObject({ numStartups: 3, theme: "light" });
  expect(readFileSync(home(".cache/cld/cp/last_main"), "utf8")).toBe("g3f\n");
}, 60_000);
