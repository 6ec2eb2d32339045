// Two replicas writing one entry at the same moment end with one value (state/redis-merge.ts): a
// session's first turns, a target failing on both, a success while one replica is away across a
// Redis restart. Each race is made, not waited for: both stores take their write in one turn of
// the event loop, before either can hear the other; a marker sent on the channel after them tells
// when each has heard everything before it (a subscriber gets messages in order).
import { describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { openRedisState } from "../../src/state/redis.ts";
import type { StateBackend } from "../../src/state/index.ts";
import { cleanedUp, startRedis, type TestRedis } from "../helpers/redis.ts";
import { until } from "../helpers/supervisor.ts";

const FAST = { backoffMinMs: 50, backoffMaxMs: 200, heartbeatMs: 300, heartbeatTimeoutMs: 300, connectTimeoutMs: 500 };
const { open, servers } = cleanedUp();
const quiet = { info() {}, warn() {} };

async function redis(): Promise<TestRedis> {
  const r = await startRedis();
  servers.push(r);
  return r;
}

async function replica(url: string): Promise<StateBackend> {
  const s = await openRedisState({ url, prefix: "gw", log: quiet, timing: FAST });
  open.push(s);
  return s;
}

/**
 * A TCP relay to `port` that can hold everything — bytes both ways and a side's close — as a
 * stopped process's sockets do (the kernel keeps them open; nothing is read or answered) until
 * resume(): a gw behind it notices a lost Redis only then.
 */
function relay(port: number) {
  let held: (() => void)[] | undefined;
  const later = (f: () => void): void => void (held ? held.push(f) : f());
  const server = Bun.listen<{ up?: Socket; early: Uint8Array[] }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      async open(client) {
        client.data = { early: [] };
        const up = await Bun.connect({
          hostname: "127.0.0.1",
          port,
          socket: {
            data: (_, d) => later(() => void client.write(new Uint8Array(d))),
            close: () => later(() => client.end()),
            error: () => later(() => client.end()),
          },
        });
        for (const d of client.data.early.splice(0)) up.write(d);
        client.data.up = up;
      },
      data(client, d) {
        const copy = new Uint8Array(d);
        later(() => (client.data.up ? void client.data.up.write(copy) : client.data.early.push(copy)));
      },
      close: (client) => void client.data.up?.end(),
    },
  });
  return {
    port: server.port,
    pause: () => void (held ??= []),
    resume() {
      const run = held ?? [];
      held = undefined;
      for (const f of run) f();
    },
    stop: () => server.stop(true),
  };
}

/** Once it returns, every store has taken in what was published before it was called. */
async function heardAll(r: TestRedis, stores: readonly StateBackend[]): Promise<void> {
  const look = await r.client();
  const key = `marker-${crypto.randomUUID()}`;
  await look.publish("gw:changes", JSON.stringify({ from: "test", cs: [{ op: "setSticky", key, target: "marker", at: Date.now() }] }));
  await until(() => stores.every((s) => s.sticky(key, Date.now()) === "marker"), 2000, () => "every store to hear the marker");
}

/** Two replicas on a fresh Redis, and a client to look at its keys. */
async function twoReplicas() {
  const r = await redis();
  const [a, b] = [await replica(r.url), await replica(r.url)];
  return { r, a, b, look: await r.client() };
}

describe("one entry written by two replicas at once", () => {
  test("a session whose first turn reaches both keeps one target on both at once (the one Redis took first); a later move still reaches both", async () => {
    const { r, a, b, look } = await twoReplicas();
    const stored = async () => (JSON.parse(String(await look.get("gw:st:cc:s1::opus"))) as { target: string }).target;
    const now = Date.now();
    a.setSticky("cc:s1::opus", "x/claude", now);
    b.setSticky("cc:s1::opus", "y/claude", now);
    await until(async () => a.sticky("cc:s1::opus", Date.now()) === b.sticky("cc:s1::opus", Date.now()) && (await stored()) === a.sticky("cc:s1::opus", Date.now()), 2000, () => `one target: A ${a.sticky("cc:s1::opus", Date.now())}, B ${b.sticky("cc:s1::opus", Date.now())}`);
    await heardAll(r, [a, b]);
    const first = a.sticky("cc:s1::opus", Date.now())!;
    expect(["x/claude", "y/claude"]).toContain(first);
    // The next turns, one through each: both go to `first`, and stay there.
    for (const s of [a, b]) s.setSticky("cc:s1::opus", s.sticky("cc:s1::opus", Date.now())!, Date.now());
    await heardAll(r, [a, b]);
    expect([a.sticky("cc:s1::opus", Date.now()), b.sticky("cc:s1::opus", Date.now()), await stored()]).toEqual([first, first, first]);

    // Failover through B moves the session: A and Redis follow.
    b.setSticky("cc:s1::opus", "z/claude", Date.now());
    await until(async () => a.sticky("cc:s1::opus", Date.now()) === "z/claude" && (await stored()) === "z/claude", 2000, () => "A and Redis to follow the move");
  });

  test("a target failing on both gets one cooldown end everywhere (the later start), hence one probe claim; an older one heard late changes nothing; the probe's early end still reaches both", async () => {
    const { r, a, b, look } = await twoReplicas();
    const storedEnd = async () => (JSON.parse(String(await look.get("gw:cd:opus\0x/claude"))) as { until: number }).until;
    const t = Date.now();
    const cd = (setAt: number) => ({ until: setAt + 120_000, kind: "transient_heavy" as const, reason: "529", setAt });
    a.setCooldown("opus", "x/claude", cd(t));
    b.setCooldown("opus", "x/claude", cd(t + 2));
    const end = t + 2 + 120_000;
    const ends = () => [a, b].map((s) => s.cooldown("opus", "x/claude", Date.now())?.until);
    await until(async () => ends().every((u) => u === end) && (await storedEnd()) === end, 2000, () => `one end: A, B ${ends()}`);
    await heardAll(r, [a, b]);
    expect(ends()).toEqual([end, end]);
    expect((await Promise.all([a, b].map((s) => s.claimProbe("opus", "x/claude", Date.now() + 5000)))).sort()).toEqual(["held", "mine"]);

    // A replica's publish of the older one, heard after the newer (a slow batch), is no news.
    await look.publish("gw:changes", JSON.stringify({ from: "late", cs: [{ op: "setCooldown", route: "opus", target: "x/claude", c: cd(t) }] }));
    await heardAll(r, [a, b]);
    expect(ends()).toEqual([end, end]);

    // A probe that answered ends the period early (same start, earlier end): it wins everywhere.
    const early = Date.now();
    a.setCooldown("opus", "x/claude", { ...cd(t + 2), until: early });
    await until(async () => ends().every((u) => u === early) && (await storedEnd()) === early, 2000, () => `the early end to reach B and Redis: ${ends()}`);
  });
});

describe("a replica that re-joins late, after Redis restarted empty", () => {
  test("a cooldown another replica ended meanwhile stays ended; one nobody ended is given back and keeps running", async () => {
    const r = await redis();
    // The late replica connects as its own user: once Redis restarts without that user, it stays
    // away for as long as the test wants (a gw stopped with SIGSTOP, a suspended VM).
    const user = async () => (await r.client()).send("ACL", ["SETUSER", "late", "on", ">late-pw", "~*", "&*", "+@all"]);
    await user();
    const late = await replica(`redis://late:late-pw@127.0.0.1:${r.port}`);
    const a = await replica(r.url);
    const now = Date.now();
    const hour = (setAt: number) => ({ until: setAt + 3600_000, kind: "quota" as const, reason: "429", setAt });
    a.setCooldown("opus", "ended/claude", hour(now));
    a.setCooldown("opus", "lasting/claude", hour(now));
    await until(() => late.coolingList(Date.now()).length === 2, 1000, () => "the late replica to hear both cooldowns");

    await r.kill();
    await until(() => !a.health().up && !late.health().up, 3000, () => "both to notice");
    await r.start(); // empty, and without the late replica's user
    await until(() => a.health().up, 5000, () => "A to re-join");
    const look = await r.client();
    await until(async () => Number(await look.send("EXISTS", ["gw:cd:opus\0ended/claude", "gw:cd:opus\0lasting/claude"])) === 2, 1000, () => "A to give both back");
    a.clearCooldown("opus", "ended/claude"); // its trial succeeded
    await until(async () => Number(await look.send("EXISTS", ["gw:cd:opus\0ended/claude"])) === 0, 1000, () => "the success in Redis");

    await user();
    await until(() => late.health().up, 5000, () => "the late replica to re-join");
    const third = await replica(r.url);
    for (const [name, s] of Object.entries({ late, a, third })) {
      expect([name, s.cooldown("opus", "ended/claude", Date.now())]).toEqual([name, undefined]);
      expect([name, s.cooldown("opus", "lasting/claude", Date.now())]).toEqual([name, hour(now)]);
    }
    expect(await look.send("KEYS", ["gw:cd:*"])).toEqual(["gw:cd:opus\0lasting/claude"]);
  });

  test("stopped across the restart, it takes a cooldown another replica set meanwhile instead of deleting it as one it saw cleared", async () => {
    // It heard every change until it stopped, not until it noticed the loss (when it ran again):
    // what another gw wrote to the restarted Redis meanwhile is news, not an entry it saw go.
    const r = await redis();
    const link = relay(r.port);
    const lines: string[] = [];
    const late = await openRedisState({ url: `redis://127.0.0.1:${link.port}`, prefix: "gw", log: { info: (m) => lines.push(m), warn: (m) => lines.push(m) }, timing: { ...FAST, heartbeatMs: 60_000 } });
    open.push(late);
    const a = await replica(r.url);
    try {
      link.pause(); // the late replica stops
      await r.kill();
      await until(() => !a.health().up, 3000, () => "A to notice");
      await r.start();
      await until(() => a.health().up, 5000, () => "A to re-join");
      const cd = { until: Date.now() + 3600_000, kind: "quota" as const, reason: "429", setAt: Date.now() };
      a.setCooldown("opus", "fresh/claude", cd);
      const look = await r.client();
      await until(async () => Number(await look.send("EXISTS", ["gw:cd:opus\0fresh/claude"])) === 1, 1000, () => "A's cooldown in Redis");
      expect(late.health().up).toBe(true); // it has noticed nothing

      link.resume(); // it runs again
      await until(() => lines.some((l) => l.includes("reachable again")), 5000, () => `the late replica to re-join: ${lines}`);
      expect(late.cooldown("opus", "fresh/claude", Date.now())).toEqual(cd);
      expect(await look.send("EXISTS", ["gw:cd:opus\0fresh/claude"])).toBe(1);
      expect(a.cooldown("opus", "fresh/claude", Date.now())).toEqual(cd);
    } finally {
      link.stop();
    }
  });
});
