// The probe before a half-open target's trial, across stores on one real redis-server
// (state/redis-trial.ts): a request takes the trial only once a probe answered — not while another
// replica's probe holds it, and not once that holder's claim has run out unanswered (it died) —
// and a prober that finds the probe answered elsewhere is told so instead of probing again.
import { describe, expect, test } from "bun:test";
import { createMemoryStore } from "../../src/state/memory.ts";
import { keySpace } from "../../src/state/redis-keys.ts";
import { type Asked, sharedTrials } from "../../src/state/redis-trial.ts";
import { openRedisState } from "../../src/state/redis.ts";
import { forgottenAt, HALF_OPEN_KEEP_MS, isAvailable } from "../../src/state/types.ts";
import { cleanedUp, startRedis, type TestRedis } from "../helpers/redis.ts";
import { until } from "../helpers/supervisor.ts";

const FAST = { backoffMinMs: 50, backoffMaxMs: 200, heartbeatMs: 300, heartbeatTimeoutMs: 300, connectTimeoutMs: 500 };
const { open, servers } = cleanedUp();
const quiet = { info() {}, warn() {} };

async function replica(redis: TestRedis) {
  const store = await openRedisState({ url: redis.url, prefix: "gw", log: quiet, timing: FAST });
  open.push(store);
  return store;
}

/** Two stores on a fresh Redis, both knowing x/claude half-open (its cooldown just over). */
async function halfOpen() {
  const r = await startRedis();
  servers.push(r);
  const [a, b] = [await replica(r), await replica(r)];
  const end = Date.now() - 1;
  a.setCooldown("opus", "x/claude", { until: end, kind: "connection", reason: "refused", setAt: end - 3000 });
  await until(() => b.cooldown("opus", "x/claude", Date.now()) !== undefined, 1000, () => "B to hear of the cooldown");
  const look = await r.client();
  const probeKey = `gw:pr:opus\0x/claude\0${end}`;
  return { r, a, b, look, probeKey };
}

describe("the probe before a trial, across replicas", () => {
  test("no request takes the trial while another replica's probe holds it, nor once that claim ran out unanswered; a prober asking then gets it", async () => {
    const { a, b, look, probeKey } = await halfOpen();
    expect(await a.claimProbe("opus", "x/claude", Date.now() + 300)).toBe("mine");
    expect(await b.claimProbe("opus", "x/claude", Date.now() + 5000)).toBe("held");
    expect(await b.claimTrial("opus", "x/claude", Date.now() + 5000)).toBe(false);
    // A dies before its probe answers: its claim runs out.
    await until(async () => Number(await look.send("EXISTS", [probeKey])) === 0, 2000, () => "A's claim to run out");
    expect(await b.claimTrial("opus", "x/claude", Date.now() + 5000)).toBe(false);
    expect(await b.claimProbe("opus", "x/claude", Date.now() + 5000)).toBe("mine");
    expect(await a.claimTrial("opus", "x/claude", Date.now() + 5000)).toBe(false);
    // B's probe answers: now the trial is one request's, on any replica.
    b.probeAnswered("opus", "x/claude");
    await until(async () => (await look.get(probeKey)) === "up", 1000, () => "the answer to reach Redis");
    expect(await a.claimTrial("opus", "x/claude", Date.now() + 5000)).toBe(true);
    expect(await b.claimTrial("opus", "x/claude", Date.now() + 5000)).toBe(false);
  });

  test("a prober that finds the probe answered elsewhere is told so; its requests may then take the trial", async () => {
    const { a, b, look, probeKey } = await halfOpen();
    expect(await a.claimProbe("opus", "x/claude", Date.now() + 5000)).toBe("mine");
    expect(await b.claimProbe("opus", "x/claude", Date.now() + 5000)).toBe("held");
    a.probeAnswered("opus", "x/claude");
    await until(async () => (await look.get(probeKey)) === "up", 1000, () => "the answer to reach Redis");
    // The answer lives as long as the half-open entry, no longer.
    expect(Number(await look.send("PTTL", [probeKey]))).toBeGreaterThan(9 * 60_000);
    expect(await b.claimProbe("opus", "x/claude", Date.now() + 5000)).toBe("answered");
    expect(isAvailable(b.cooldown("opus", "x/claude", Date.now()), Date.now())).toBe(true);
    expect(await b.claimTrial("opus", "x/claude", Date.now() + 5000)).toBe(true);
  });

  test("Redis restarted empty after the probe answered: the trial is still a request's, not held out for ever", async () => {
    const { r, a, b, look, probeKey } = await halfOpen();
    expect(await a.claimProbe("opus", "x/claude", Date.now() + 5000)).toBe("mine");
    expect(await b.claimProbe("opus", "x/claude", Date.now() + 5000)).toBe("held");
    a.probeAnswered("opus", "x/claude");
    await until(async () => (await look.get(probeKey)) === "up", 1000, () => "the answer to reach Redis");
    expect(await b.claimProbe("opus", "x/claude", Date.now() + 5000)).toBe("answered");
    await r.kill();
    await until(() => !a.health().up && !b.health().up, 3000, () => "both to notice");
    await r.start();
    await until(() => a.health().up && b.health().up, 5000, () => "both to reconnect");
    expect(await b.claimTrial("opus", "x/claude", Date.now() + 5000)).toBe(true);
  });
});

describe("what this gw's prober asked for", () => {
  test("an ask goes once its cooldown can no longer match it: forgotten, cleared by a success, or replaced by a new cooldown", async () => {
    const r = await startRedis();
    servers.push(r);
    const cmd = await r.client();
    const store = createMemoryStore();
    const probing = new Map<string, Asked>();
    let clock = Date.now();
    const trials = sharedTrials({ store, keys: keySpace("gw-prune"), me: "me", now: () => clock, cmd: () => cmd, probing });
    const cool = (route: string, target: string, until: number) => store.setCooldown(route, target, { until, kind: "connection", reason: "refused", setAt: Math.min(until, clock) - 3000 });
    const asked = () => [...probing.values()].map((a) => `${a.route} ${a.target}`).sort();
    // Four pairs cooling, each asked for by the prober; one cooldown outlives the others.
    const end = clock - 1;
    for (const route of ["old-route", "recovered", "again"]) cool(route, "x/claude", end);
    const lasting = clock + 2 * HALF_OPEN_KEEP_MS;
    cool("lasting", "x/claude", lasting);
    for (const route of ["old-route", "recovered", "again", "lasting"]) expect(await trials.claimProbe(route, "x/claude", clock + 5000)).toBe("mine");
    expect(asked()).toEqual(["again x/claude", "lasting x/claude", "old-route x/claude", "recovered x/claude"]);
    // A success clears one, a new failure replaces another; the first three's periods are then
    // forgotten (old-route: the route a reload removed, no one asks for it again).
    store.clearCooldown("recovered", "x/claude");
    clock = forgottenAt({ until: end, kind: "connection", reason: "", setAt: end }) + 1;
    cool("again", "x/claude", clock + 60_000);
    expect(store.cooldown("old-route", "x/claude", clock)).toBeUndefined();
    // The next ask takes the dead ones away; the lasting one still counts for its trial.
    cool("new", "x/claude", clock - 1);
    expect(await trials.claimProbe("new", "x/claude", clock + 5000)).toBe("mine");
    expect(asked()).toEqual(["lasting x/claude", "new x/claude"]);
    // And it still counts: with its probe's claim gone unanswered, its trial is no request's.
    await cmd.del(keySpace("gw-prune").pr("lasting", "x/claude", lasting));
    expect(await trials.claimTrial("lasting", "x/claude", clock + 5000)).toBe(false);
  });
});
