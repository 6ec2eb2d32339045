// lb/hold.ts: a request for an away instance waits for the supervisor's word (ready or lost) or
// its own stop signal, and then goes to the instance as configured now; nothing waits otherwise.
import { describe, expect, test } from "bun:test";
import type { InstanceConfig } from "../../src/config/types.ts";
import { InstanceHold } from "../../src/lb/hold.ts";

const inst = (port: number) => ({ name: "a", port, baseUrl: `http://127.0.0.1:${port}` }) as InstanceConfig;

describe("InstanceHold", () => {
  test("an instance that is not away is not waited for", async () => {
    const hold = new InstanceHold(() => inst(2));
    const a = inst(1);
    expect(hold.has("a")).toBe(false);
    expect(await hold.wait(a, new AbortController().signal)).toEqual({ instance: a, ms: 0 });
  });

  test("ready wakes every waiter, which go to the instance as configured now", async () => {
    let now = inst(1);
    const hold = new InstanceHold(() => now);
    hold.set("a", "away");
    const waits = [hold.wait(inst(1), new AbortController().signal), hold.wait(inst(1), new AbortController().signal)];
    let woken = 0;
    for (const w of waits) void w.then(() => woken++);
    await Bun.sleep(5);
    expect(woken).toBe(0);
    now = inst(2); // a reload moved its port meanwhile
    hold.set("a", "ready");
    for (const w of await Promise.all(waits)) {
      expect(w.instance.port).toBe(2);
      expect(w.ms).toBeGreaterThan(0);
    }
    expect(hold.has("a")).toBe(false);
  });

  test("lost wakes the waiters too; a later away starts a new wait", async () => {
    const hold = new InstanceHold(() => undefined);
    hold.set("a", "away");
    const first = hold.wait(inst(1), new AbortController().signal);
    hold.set("a", "lost");
    expect((await first).instance.port).toBe(1); // no current config: the one it had
    hold.set("a", "away");
    expect(hold.has("a")).toBe(true);
  });

  test("lost is remembered until the next word (a crash loop, a failed start: known down), and a crash's lost-then-away is not", () => {
    const hold = new InstanceHold(() => inst(1));
    hold.set("a", "lost");
    expect([hold.lost.has("a"), hold.has("a")]).toEqual([true, false]);
    hold.set("a", "away");
    expect([hold.lost.has("a"), hold.has("a")]).toEqual([false, true]);
    hold.set("a", "lost");
    hold.set("a", "ready");
    expect(hold.lost.has("a")).toBe(false);
  });

  test("the attempt's stop signal ends the wait (its deadline, its client leaving), already aborted or later", async () => {
    const hold = new InstanceHold(() => undefined);
    hold.set("a", "away");
    const gone = new AbortController();
    gone.abort();
    expect((await hold.wait(inst(1), gone.signal)).ms).toBeGreaterThan(0);
    const later = new AbortController();
    const w = hold.wait(inst(1), later.signal);
    later.abort();
    await w;
    expect(hold.has("a")).toBe(true); // still away for everyone else
  });

  test("gone: an instance this gw runs whose connection failed is looked at by the supervisor; away after that means wait; url instances are not asked", async () => {
    const looked: string[] = [];
    let dead = false;
    const hold: InstanceHold = new InstanceHold(
      () => undefined,
      async (name) => {
        looked.push(name);
        if (dead) hold.set(name, "away");
      },
    );
    const managed = { ...inst(1), managed: true } as InstanceConfig;
    expect(await hold.gone(managed)).toBe(false); // alive: the refusal stands
    dead = true;
    expect(await hold.gone(managed)).toBe(true);
    expect(looked).toEqual(["a", "a"]);
    expect(await hold.gone({ ...inst(1), managed: false } as InstanceConfig)).toBe(false);
    expect(looked).toHaveLength(2);
    expect(await new InstanceHold(() => undefined).gone(managed)).toBe(false); // no supervisor
  });
});
