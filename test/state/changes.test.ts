// Changes waiting for a backend that is away (Redis down, the disk full): the last change per
// entry wins, and however long the outage, what waits stays bounded, newest kept.
import { expect, test } from "bun:test";
import { PendingChanges } from "../../src/state/changes.ts";
import { entriesMax, STICKY_MAX } from "../../src/state/memory.ts";
import type { StateChange } from "../../src/state/types.ts";

const sticky = (n: number, target = "a"): StateChange => ({ op: "setSticky", key: `session-${n}`, target, at: n });

test("a burst of writes to one entry waits as its last one", () => {
  const p = new PendingChanges(entriesMax({}));
  for (let n = 0; n < 100; n++) p.add({ op: "setSticky", key: "one", target: `t${n}`, at: n });
  expect(p.take()).toEqual([{ op: "setSticky", key: "one", target: "t99", at: 99 }]);
  expect(p.size).toBe(0);
});

test("days of new sessions during an outage: at most as many entries as the store keeps (sticky keys, streaks, cooldowns), the newest", () => {
  const p = new PendingChanges(entriesMax({}));
  const sessions = 5 * STICKY_MAX;
  for (let n = 0; n < sessions; n++) p.add(sticky(n));
  expect(p.size).toBe(3 * STICKY_MAX);
  const waiting = p.take();
  expect(waiting[0]).toEqual(sticky(sessions - 3 * STICKY_MAX));
  expect(waiting.at(-1)).toEqual(sticky(sessions - 1));
});

test("an entry changed again is the newest, so the cap drops another", () => {
  const p = new PendingChanges(3);
  for (const n of [1, 2, 3]) p.add(sticky(n));
  p.add(sticky(1, "b"));
  p.add(sticky(4));
  expect(p.take()).toEqual([sticky(3), sticky(1, "b"), sticky(4)]);
});

test("a failed batch comes back under the cap, and a newer change to one of its entries wins", () => {
  const p = new PendingChanges(3);
  for (const n of [1, 2, 3]) p.add(sticky(n));
  const batch = p.take();
  p.add(sticky(2, "newer"));
  p.add(sticky(9));
  p.restore(batch);
  expect(p.size).toBe(3);
  expect(p.take()).toEqual([sticky(3), sticky(2, "newer"), sticky(9)]);
});

test("a session's write waiting behind one never sent finds in the backend what that one would have: its `was`; after a clear, none binds", () => {
  const p = new PendingChanges(3);
  p.add({ op: "setSticky", key: "s", target: "x", at: 1, was: null });
  p.add({ op: "setSticky", key: "s", target: "y", at: 2, was: "x" });
  expect(p.take()).toEqual([{ op: "setSticky", key: "s", target: "y", at: 2, was: null }]);
  p.add({ op: "clearSticky", key: "s" });
  p.add({ op: "setSticky", key: "s", target: "z", at: 3, was: null });
  expect(p.take()).toEqual([{ op: "setSticky", key: "s", target: "z", at: 3 }]);
  // A batch the connection lost comes back before a newer write: the newer one takes its `was`.
  p.add({ op: "setSticky", key: "s", target: "w", at: 4, was: "z" });
  p.restore([{ op: "setSticky", key: "s", target: "z", at: 3, was: "x" }]);
  expect(p.take()).toEqual([{ op: "setSticky", key: "s", target: "w", at: 4, was: "x" }]);
});
