// The host probe of `gw deploy`, run here by sh as it runs on a host: every fact the deploy reads.
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseProbe, probeScript } from "../../src/deploy/scripts.ts";
import { tempDir } from "../helpers/tmp.ts";

test("the probe reports the user, where it may write, and whether its user units outlive its sessions (linger)", async () => {
  const dir = join(tempDir("gw-probe-"), "gw");
  const proc = Bun.spawn(["sh", "-c", probeScript(dir)], { stdout: "pipe", stderr: "pipe" });
  const facts = parseProbe(await new Response(proc.stdout).text());
  expect(await proc.exited).toBe(0);
  const user = Bun.spawnSync(["id", "-un"]).stdout.toString().trim();
  expect(facts.get("user")).toBe(user);
  expect(facts.get("dir")).toBe(dir);
  expect(facts.get("writable")).toBe("1");
  expect(facts.get("running")).toBe("0");
  expect(facts.get("linger")).toBe(existsSync(`/var/lib/systemd/linger/${user}`) ? "1" : "0");
});
