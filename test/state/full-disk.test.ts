// The state file on a really full disk (test/helpers/full-disk.ts): SQLite resolves the
// /proc/<pid>/root path the test sees the tmpfs by, so the store runs in a process inside the
// namespace, which frees the room itself and prints what it then holds.
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fullDisksForFile } from "../helpers/full-disk.ts";
import { tempDir } from "../helpers/tmp.ts";

const fullDisk = fullDisksForFile();

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

/** A full 4m tmpfs, and `run(body)`: one store process on its state file, to its end; its stdout. */
async function storeOnFullDisk() {
  const dir = tempDir("gw-state-full-");
  const disk = await fullDisk(join(dir, "m"), join(dir, "ctl"), "4m");
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
  return { disk, run, filler: join(disk.mount, ".filler") };
}

test("room again: the file's entries join memory, but what memory learnt meanwhile wins — a cooldown cleared meanwhile stays cleared; checkpoints run off-thread again", async () => {
  const { disk, run, filler } = await storeOnFullDisk();
  await run(`cool("a"); cool("b");`); // an earlier run: both targets cooling, in the file
  disk.fill();
  const out = await run(`
    if (s.health().up) throw new Error("the state file opened on a full disk");
    cool("b"); s.clearCooldown("r", "b"); // b answered again while the file could not be opened
    rmSync(${JSON.stringify(filler)});
    if (!s.health().up) throw new Error("asked once there is room, the state file is not taken up at once");
    while (checkpoints === 0) await Bun.sleep(20);
    console.log(JSON.stringify({ a: !!s.cooldown("r", "a", Date.now()), b: !!s.cooldown("r", "b", Date.now()), checkpoints, log }));`);
  const seen = JSON.parse(out) as { a: boolean; b: boolean; checkpoints: number; log: string[] };
  expect(seen.a).toBe(true); // the earlier run's, which memory lacked
  expect(seen.b).toBe(false); // cleared after the file's entry was written: the newer word
  expect(seen.checkpoints).toBeGreaterThan(0);
  expect(seen.log.filter((l) => l.includes("no space left"))).toHaveLength(1);
  // And the file says the same: the next start finds a cooling, b not.
  expect(await run(`console.log(JSON.stringify([!!s.cooldown("r", "a", Date.now()), !!s.cooldown("r", "b", Date.now())]));`)).toBe("[true,false]\n");
}, 60_000);

test("room again, then a graceful stop before any retry: what memory learnt meanwhile is written, not lost", async () => {
  const { disk, run, filler } = await storeOnFullDisk();
  await run(`cool("a");`); // the file exists, as after any earlier run
  disk.fill();
  // Nobody asks (no status, no scrape) and the stop comes before the retry's timer: close itself looks.
  await run(`
    if (s.health().up) throw new Error("the state file opened on a full disk");
    cool("b");
    rmSync(${JSON.stringify(filler)});`);
  expect(await run(`console.log(JSON.stringify([!!s.cooldown("r", "a", Date.now()), !!s.cooldown("r", "b", Date.now())]));`)).toBe("[true,true]\n");
}, 60_000);

test("refused by the full disk, then by another process's lock once there is room: health gives the latest cause, gw.log the first once; asked once the lock is gone, it is written", async () => {
  const dir = tempDir("gw-state-full-");
  const disk = await fullDisk(join(dir, "m"), join(dir, "ctl"), "4m");
  const file = join(disk.mount, ".gw", "state.db");
  const script = join(dir, "store.ts"); // on the real disk: one the fill leaves alone
  const filler = join(disk.mount, ".filler");
  // A second writer (the other gw during an upgrade) holding its write lock until told.
  const locker = `const { Database } = require("bun:sqlite"); const db = new Database(${JSON.stringify(file)}); db.run("PRAGMA busy_timeout = 10000"); db.run("BEGIN IMMEDIATE"); console.log("locked"); for await (const _ of console) { db.run("COMMIT"); break; }`;
  writeFileSync(script, storeScript(file, `
    const { closeSync, openSync, writeSync } = require("node:fs");
    /** Until \`done\`, asking health each time (as gw status does), or 10 s. */
    const until = async (done) => { for (const end = Date.now() + 10_000; Date.now() < end && !done(); ) await Bun.sleep(20); };
    const fd = openSync(${JSON.stringify(filler)}, "w");
    try { for (const block = Buffer.alloc(64 * 1024); ; ) writeSync(fd, block); } catch {} // ENOSPC: full
    closeSync(fd);
    cool("a");
    await until(() => !s.health().up);
    const full = s.health().problem;
    const lock = Bun.spawn([process.execPath, "-e", ${JSON.stringify(locker)}], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    await lock.stdout.getReader().read(); // "locked"
    rmSync(${JSON.stringify(filler)});
    await until(() => !s.health().problem?.includes("no space"));
    const locked = s.health().problem;
    lock.stdin.write("go\\n");
    await lock.stdin.flush();
    await lock.exited;
    const after = s.health();
    console.log(JSON.stringify({ full, locked, up: after.up, log }));`));
  const out = await disk.run([process.execPath, script]);
  expect(out.stderr).toBe("");
  expect(out.code).toBe(0);
  const seen = JSON.parse(out.stdout) as { full: string; locked: string; up: boolean; log: string[] };
  expect(seen.full).toBe(`cannot write ${file}: no space left on the device`);
  expect(seen.locked).toBe(`cannot write ${file}: database is locked`); // not the full disk any more: that is freed
  expect(seen.up).toBe(true); // the first ask once the lock is gone
  expect(seen.log).toEqual([`state file: cannot write ${file}: no space left on the device; state is kept in memory and written when it can be`, `state file ${file} is written again`]);
}, 60_000);
