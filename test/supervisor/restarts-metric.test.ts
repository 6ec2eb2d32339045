// gw_instance_restarts_total is a counter: within one gw it never goes down, also when a reload
// drops an instance and a later one adds it back (the supervisor's own count starts at 0 again).
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { gw, killAll, type Sandbox, sandbox, timesLogged, untilLogged } from "../helpers/supervisor.ts";

let sb: Sandbox;
afterAll(async () => {
  if (sb) await killAll(sb);
});

test("a restart stays counted across a reload that removes the instance and one that adds it back", async () => {
  sb = await sandbox([{ name: "a" }, { name: "beta" }]);
  const restarts = async () => {
    const text = await (await fetch(`http://127.0.0.1:${sb.mainPort}/metrics`)).text();
    const m = text.match(/\ngw_instance_restarts_total\{instance_name="beta"\} (\d+)\n/);
    return m ? Number(m[1]) : undefined;
  };
  const withBeta = readFileSync(sb.file, "utf8");
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  expect((await gw(sb, ["restart", "beta", "-c", sb.file])).code).toBe(0);
  expect(await restarts()).toBe(1);

  const withoutBeta = withBeta.replace(/\n\[instances\.beta\]\n.*\n.*\n/, "").replace(/, \{ instance = "beta"[^}]*\}/, "");
  expect(withoutBeta).not.toContain("beta");
  writeFileSync(sb.file, withoutBeta);
  expect((await gw(sb, ["reload", "-c", sb.file])).code).toBe(0);
  await untilLogged(sb, "beta: removed from the config, stopping");
  expect(await restarts()).toBeUndefined(); // gone with the instance

  const readyBefore = timesLogged(sb, "beta: ready");
  writeFileSync(sb.file, withBeta);
  expect((await gw(sb, ["reload", "-c", sb.file])).code).toBe(0);
  await untilLogged(sb, "beta: added to the config, starting");
  await untilLogged(sb, "beta: ready", readyBefore + 1);
  expect(await restarts()).toBe(1);
  expect((await gw(sb, ["restart", "beta", "-c", sb.file])).code).toBe(0);
  expect(await restarts()).toBe(2);
  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
}, 90_000);
