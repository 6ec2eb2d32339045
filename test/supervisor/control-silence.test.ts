// The watcher of a silent gw (src/supervisor/control-silence.ts) on real processes recorded as the
// config's gw, with short limits in place of timing.ts's (a busy gw is waited for up to 60 s there):
// the verdict, when it comes, and what it is judged on. test/supervisor/silent-gw.test.ts runs a
// control command against a stand-in gw with the real limits.
import { afterEach, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import type { Subprocess } from "bun";
import { type ControlSilent, judgeSilence, type SilenceLimits, watchSilence } from "../../src/supervisor/control-silence.ts";
import { controlRequest, NotRunningError } from "../../src/supervisor/control.ts";
import { recordOf } from "../../src/supervisor/orphans.ts";
import { type GwPaths, gwPaths } from "../../src/supervisor/paths.ts";
import { CONTROL_ANSWER_MS } from "../../src/supervisor/timing.ts";
import { tempDir } from "../helpers/tmp.ts";

const procs: Subprocess[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) {
    p.kill("SIGKILL");
    await p.exited;
  }
});

/** A process running `script`, recorded in the pid file as the gw of `paths`, once it says "started". */
async function recordedGw(paths: GwPaths, script: string): Promise<Subprocess<"ignore", "pipe", "inherit">> {
  const proc = Bun.spawn([process.execPath, "-e", `console.log("started"); ${script}`], { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  procs.push(proc);
  const first = await proc.stdout.getReader().read();
  expect(new TextDecoder().decode(first.value)).toBe("started\n");
  mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
  writeFileSync(paths.pidFile, `${JSON.stringify(await recordOf("gw", proc.pid))}\n`);
  return proc;
}

/** The error the watcher gives up with (null: the gw is gone), and when (ms after it began); `meanwhile` runs as it watches. */
async function verdict(paths: GwPaths, limits: SilenceLimits, meanwhile = async () => {}): Promise<{ err: ControlSilent | null; afterMs: number }> {
  const began = performance.now();
  const given = Promise.withResolvers<ControlSilent | null>();
  const watch = watchSilence(paths, limits, given.resolve);
  try {
    await meanwhile();
    return { err: await given.promise, afterMs: performance.now() - began };
  } finally {
    watch.stop();
  }
}

const LIMITS: SilenceLimits = { firstMs: 1_500, sampleMs: 1_000, everyMs: 250, busyMs: 3_000 };
const SPIN = "for (;;) {}";

test("the verdict: stopped by the state letter, busy by the CPU used between two looks", () => {
  const look = (state: string, wantedMs: number) => ({ state, wantedMs });
  expect(judgeSilence(null, null, 1000)).toBe("unknown");
  expect(judgeSilence(look("T", 90), look("R", 10), 1000)).toBe("stopped");
  expect(judgeSilence(look("t", 10), null, 1000)).toBe("stopped");
  expect(judgeSilence(look("D", 10), look("D", 10), 1000)).toBe("busy");
  // a tenth of the second wanting a core (ran or waited to run)
  expect(judgeSilence(look("S", 140), look("R", 40), 1000)).toBe("busy");
  expect(judgeSilence(look("R", 139), look("R", 40), 1000)).toBe("wedged"); // R for a moment is no work
  expect(judgeSilence(look("R", 40), null, 1000)).toBe("wedged");
});

test("no gw to look at (none recorded, or no /proc): given up at firstMs, not at the first look before it", async () => {
  const paths = gwPaths(tempDir("gw-silence-"));
  const { err, afterMs } = await verdict(paths, LIMITS);
  expect(err?.message).toBe("gw does not answer on its control socket (stopped? kill -CONT PID)");
  expect(afterMs).toBeGreaterThanOrEqual(LIMITS.firstMs);
});

test("timers that fire before their mark (they keep whole milliseconds): still not given up before firstMs", async () => {
  const paths = gwPaths(tempDir("gw-silence-"));
  const realSetTimeout = globalThis.setTimeout;
  const EARLY_MS = 50; // far beyond the real clock's 1 ms, so a late wake-up cannot hide it
  globalThis.setTimeout = ((fn: () => void, ms = 0) => realSetTimeout(fn, Math.max(0, ms - EARLY_MS))) as typeof setTimeout;
  try {
    const { err, afterMs } = await verdict(paths, LIMITS);
    expect(err?.message).toBe("gw does not answer on its control socket (stopped? kill -CONT PID)");
    expect(afterMs).toBeGreaterThanOrEqual(LIMITS.firstMs);
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
});

test("a gw busy for longer than busyMs: waited for, then given up on with its own line", async () => {
  const paths = gwPaths(tempDir("gw-silence-"));
  const gw = await recordedGw(paths, SPIN);
  const { err, afterMs } = await verdict(paths, LIMITS);
  expect(err?.message).toBe(`gw (pid ${gw.pid}) has been busy for 3 s without answering on its control socket`);
  expect(afterMs).toBeGreaterThanOrEqual(LIMITS.busyMs);
}, 20_000);

test("busyMs 0 (a poll that asks again): a busy gw is given up on at firstMs", async () => {
  const paths = gwPaths(tempDir("gw-silence-"));
  const gw = await recordedGw(paths, SPIN);
  const { err, afterMs } = await verdict(paths, { ...LIMITS, busyMs: 0 });
  expect(err?.message).toBe(`gw (pid ${gw.pid}) has been busy for 0 s without answering on its control socket`);
  expect(afterMs).toBeLessThan(LIMITS.firstMs + LIMITS.everyMs);
});

test("a gw whose main thread is stuck in a system call while another thread works is not busy: its event loop does not run", async () => {
  const paths = gwPaths(tempDir("gw-silence-"));
  // a worker spins (as JIT and GC threads may), the main thread sleeps in nanosleep
  const worker = `new Worker(URL.createObjectURL(new Blob([${JSON.stringify(SPIN)}], { type: "application/javascript" })))`;
  const gw = await recordedGw(paths, `${worker}; for (;;) Bun.sleepSync(60_000);`);
  const { err } = await verdict(paths, LIMITS);
  expect(err?.message).toBe(`gw (pid ${gw.pid}) does not answer on its control socket, though it is neither stopped nor busy`);
}, 20_000);

test("the pid file names another process between the two looks (a successor took over): the CPU of one is not compared with the other's", async () => {
  const paths = gwPaths(tempDir("gw-silence-"));
  // The first has used far more CPU by the first look than the second will have by the mark: the
  // difference of the two reads as no work (or less than none) though the second works all along.
  await recordedGw(paths, SPIN);
  await Bun.sleep(1_500);
  const limits = { ...LIMITS, firstMs: 3_000, sampleMs: 2_000 }; // room to start the second between the looks
  let successor = 0;
  const { err } = await verdict(paths, limits, async () => {
    await Bun.sleep(limits.firstMs - limits.sampleMs + 250); // after the first look
    successor = (await recordedGw(paths, SPIN)).pid;
  });
  expect(err?.message).toBe(`gw (pid ${successor}) has been busy for 3 s without answering on its control socket`);
}, 20_000);

test("the gw looked at exits while it is waited for: it is gone (not running), not 'does not answer (stopped?)'", async () => {
  const paths = gwPaths(tempDir("gw-silence-"));
  const gw = await recordedGw(paths, SPIN);
  const { err } = await verdict(paths, LIMITS, async () => {
    await Bun.sleep(LIMITS.firstMs + LIMITS.everyMs / 2); // judged busy at the mark, looked at again soon
    gw.kill("SIGKILL");
    await gw.exited;
  });
  expect(err).toBeNull();
}, 20_000);

test("a control command whose gw exits while it is waited for says it is not running", async () => {
  const paths = gwPaths(tempDir("gw-silence-"));
  const gw = await recordedGw(paths, SPIN);
  // the socket is held by this test, so the request does not fail with the recorded gw: only the look tells
  const holder = Bun.serve({ unix: paths.socket, ...({ idleTimeout: 0 } as object), fetch: () => new Promise<Response>(() => {}) });
  try {
    const request = controlRequest(paths, "/status").catch((e: unknown) => e);
    await Bun.sleep(CONTROL_ANSWER_MS + 1_500); // judged busy at the mark, waited for
    gw.kill("SIGKILL");
    await gw.exited;
    const err = await request;
    expect(err).toBeInstanceOf(NotRunningError);
    expect((err as Error).message).toStartWith(`gw is not running for ${paths.dir}`); // then any gw of this user running elsewhere
  } finally {
    holder.stop(true);
  }
}, 30_000);
