// The queues that keep instance work apart (lanes.ts): one piece after another on the same
// instance or port, side by side otherwise; `gw reload` hears what its work says, from the start.
import { expect, test } from "bun:test";
import type { RestartProgress } from "../../src/supervisor/instances.ts";
import { InstanceWork, instanceLane, Lanes, portLane, RECENT_WORK_MS } from "../../src/supervisor/lanes.ts";
import { until } from "../helpers/supervisor.ts";

/** A task that runs until `finish()`; `started` says whether it began. */
function gate() {
  let finish!: () => void;
  const ended = new Promise<void>((r) => (finish = r));
  const g = { started: false, finish, task: async () => void ((g.started = true), await ended) };
  return g;
}

const draining = (name: string): RestartProgress => ({ event: "draining", name, streams: 1, graceMs: 1000 });

test("work on one instance or one port waits for the work before it; other work runs meanwhile", async () => {
  const failures: string[] = [];
  const lanes = new Lanes((e) => failures.push(e.message));
  const drainA = gate();
  const moveA = lanes.queue([instanceLane("a"), portLane(1), portLane(2)], drainA.task);
  const startB = gate(); // takes the port a leaves: after a's work
  lanes.queue([instanceLane("b"), portLane(1)], startB.task);
  const restartC = gate(); // nothing in common with a: at once
  const c = lanes.queue([instanceLane("c"), portLane(3)], restartC.task);
  const again = gate(); // a second reload's work on a: after the first
  lanes.queue([instanceLane("a"), portLane(2)], again.task);
  await Bun.sleep(0);
  expect([drainA.started, startB.started, restartC.started, again.started]).toEqual([true, false, true, false]);
  restartC.finish();
  await c.done;
  expect(c.ended).toBe(true);
  drainA.finish();
  await moveA.done;
  await Bun.sleep(0);
  expect([startB.started, again.started]).toEqual([true, true]);

  // A piece that throws is reported and does not hold its lane up.
  lanes.queue([instanceLane("d")], async () => {
    throw new Error("boom");
  });
  let ranAfter = false;
  await lanes.queue([instanceLane("d")], async () => void (ranAfter = true)).done;
  expect(failures).toEqual(["boom"]);
  expect(ranAfter).toBe(true);
});

test("following work: what it said so far, then each step as it comes; an earlier reload's work while it runs or moments after", async () => {
  const lanes = new Lanes(() => {});
  const drain = gate();
  const job = lanes.queue([instanceLane("a")], async (tell) => {
    tell(draining("a"));
    await drain.task();
    tell(draining("again"));
  });
  await Bun.sleep(0);
  const heard: string[] = [];
  const following = new InstanceWork([job]).follow((p) => heard.push(p.event === "restarted" ? p.result.name : p.name));
  expect(heard).toEqual(["a"]);
  drain.finish();
  await following;
  expect(heard).toEqual(["a", "again"]);

  // Its end at a moment whose sum with RECENT_WORK_MS does not subtract back exactly (floating
  // point; ~1 moment in 70 does): "long after" below is then RECENT_WORK_MS to the bit. It failed
  // so beside two CPU hogs, where the real end happened to be such a moment.
  job.endedAt = roundingMoment(job.endedAt);
  // Followed above by a gw reload: the same edit reloaded again does not tell it twice.
  const toldAgain: string[] = [];
  await new InstanceWork([]).after(new InstanceWork([job])).follow((p) => toldAgain.push(p.event));
  expect(toldAgain).toEqual([]);
  job.told = false; // as the file watcher's reload leaves its work: nobody followed it
  const done = new InstanceWork([job]);
  const running = gate();
  const next = lanes.queue([instanceLane("b")], running.task);
  // The same edit reloaded again (the watcher's reload ended before the user's gw reload came):
  // what the ended work said is told again; long after, it is not.
  const seen: string[] = [];
  const soon = new InstanceWork([next]).after(done).follow((p) => seen.push(p.event === "restarted" ? p.result.name : p.name));
  const stale: string[] = [];
  const late = new InstanceWork([next]).after(done, job.endedAt + RECENT_WORK_MS).follow((p) => stale.push(p.event));
  running.finish();
  await Promise.all([soon, late]);
  expect(seen).toEqual(["a", "again"]);
  expect(stale).toEqual([]);
});

/** The first moment from `from` on (in µs steps) where `(t + RECENT_WORK_MS) - t` rounds below RECENT_WORK_MS. */
function roundingMoment(from: number): number {
  for (let t = from; ; t += 0.001) if (t + RECENT_WORK_MS - t < RECENT_WORK_MS) return t;
}

test("a move in two steps (stop on the old port, start on the new one): two instances swapping ports stop side by side, each starts once the other has stopped", async () => {
  const lanes = new Lanes(() => {});
  const [stopA, stopB, startA, startB] = [gate(), gate(), gate(), gate()];
  const a = lanes.queue([instanceLane("a"), portLane(1)], async (tell) => (tell(draining("a")), await stopA.task()));
  const b = lanes.queue([instanceLane("b"), portLane(2)], stopB.task);
  lanes.queue([instanceLane("a"), portLane(2)], async (tell) => (await startA.task(), tell(draining("a started"))), a);
  lanes.queue([instanceLane("b"), portLane(1)], startB.task, b);
  const heard: string[] = [];
  const following = new InstanceWork([a]).follow((p) => heard.push(p.event === "restarted" ? p.result.name : p.name));
  await Bun.sleep(0);
  expect([stopA.started, stopB.started, startA.started, startB.started]).toEqual([true, true, false, false]);
  stopA.finish();
  // a has stopped, b still holds port 2: a's start waits for b's stop (b's for its own), a's job goes on.
  await Bun.sleep(10);
  expect([a.ended, startA.started, startB.started]).toEqual([false, false, false]);
  stopB.finish();
  await until(() => startA.started && startB.started, 5_000, () => "both starts");
  startA.finish();
  await following;
  expect(a.ended).toBe(true);
  expect(heard).toEqual(["a", "a started"]);
  startB.finish();
  await b.done;
});
