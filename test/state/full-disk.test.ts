// The state file on a really full disk (test/helpers/full-disk.ts): SQLite resolves the
// /proc/<pid>/root path the test sees the tmpfs by, so the store runs in a process inside the
// namespace, which frees the room itself and prints what it then holds.
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type FullDisk, fullDisk } from "../helpers/full-disk.ts";
import { tempDir } from "../helpers/tmp.ts";

const disks: FullDisk[] = [];
afterAll(async () => {
  for (const d of disks) await d.close();
});

const LOCAL = join(import.meta.dir, "../../src/state/local.ts");

/** A script opening the state file at `file` with `body` to run (`s` the store, `log` its lines). */
const storeScript = (file: string, body: string) => `
const { openLocalState } = await import(${JSON.stringify(LOCAL)});
const { rmSync } = require("node:fs");
const log = [];
let checkpoints = 0;
const s = openLocalState({ file: ${JSON.stringify(file)}, log: { info: (m) => log.push(m), warn: (m) => log.push(m) }, checkpointEveryMs: 20, onCheckpoint: () => checkpoints++ });
const now = Date.now();
const cool = (target) => s.setCooldown("r", target, { until: now + 600_000, kind: "transient", reason: "429", setAt: now });
${body}
await s.close();`;

test("room again: the file's entries join memory, but what memory learnt meanwhile wins — a cooldown cleared meanwhile stays cleared; checkpoints run off-thread again", async () => {
  const dir = tempDir("gw-state-full-");
  const disk = await fullDisk(join(dir, "m"), join(dir, "ctl"), "4m");
  disks.push(disk);
  const file = join(disk.mount, ".gw", "state.db");
  let n = 0;
  const run = async (body: string) => {
    const script = join(dir, `store-${++n}.ts`); // beside the tmpfs, on the real disk: one the fill leaves alone
    writeFileSync(script, storeScript(file, body));
    const out = await disk.run([process.execPath, script]);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    return out.stdout;
  };
  await run(`cool("a"); cool("b");`); // an earlier run: both targets cooling, in the file
  disk.fill();
  const out = await run(`
    if (s.health().up) throw new Error("the state file opened on a full disk");
    cool("b"); s.clearCooldown("r", "b"); // b answered again while the file could not be opened
    rmSync(${JSON.stringify(join(disk.mount, ".filler"))});
    while (!s.health().up || checkpoints === 0) await Bun.sleep(20);
    console.log(JSON.stringify({ a: !!s.cooldown("r", "a", Date.now()), b: !!s.cooldown("r", "b", Date.now()), checkpoints, log }));`);
  const seen = JSON.parse(out) as { a: boolean; b: boolean; checkpoints: number; log: string[] };
  expect(seen.a).toBe(true); // the earlier run's, which memory lacked
  expect(seen.b).toBe(false); // cleared after the file's entry was written: the newer word
  expect(seen.checkpoints).toBeGreaterThan(0);
  expect(seen.log.filter((l) => l.includes("no space left"))).toHaveLength(1);
  // And the file says the same: the next start finds a cooling, b not.
  expect(await run(`console.log(JSON.stringify([!!s.cooldown("r", "a", Date.now()), !!s.cooldown("r", "b", Date.now())]));`)).toBe("[true,false]\n");
}, 60_000);
