// A Redis that answers but refuses gw's writes — full (maxmemory with noeviction: "OOM command not
// allowed"), or an ACL user without +@scripting (the scripts gw writes its keys with: NOPERM) — is said once in its
// own words with the fix, shows in health, is tried again with backoff (never the whole pile every
// 25 ms: it took gw to ~100% CPU), keeps the other changes flowing to the keys and the channel,
// and its end is said once.
import { describe, expect, test } from "bun:test";
import { openRedisState } from "../../src/state/redis.ts";
import { cleanedUp, startRedis, type TestRedis } from "../helpers/redis.ts";
import { until } from "../helpers/supervisor.ts";

const FAST = { backoffMinMs: 50, backoffMaxMs: 200, heartbeatMs: 300, heartbeatTimeoutMs: 300, connectTimeoutMs: 500, writeRetryMinMs: 200, writeRetryMaxMs: 400 };
const { open, servers } = cleanedUp();

function logger() {
  const lines: string[] = [];
  return { lines, info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`) };
}

async function redis(): Promise<TestRedis> {
  const r = await startRedis();
  servers.push(r);
  return r;
}

async function replica(url: string, log = logger()) {
  const store = await openRedisState({ url, prefix: "gw", log, timing: FAST });
  open.push(store);
  return { store, log };
}

/** Calls of a command Redis has served or refused so far. */
async function calls(r: TestRedis, command: string): Promise<number> {
  const info = String(await (await r.client()).send("INFO", ["commandstats"]));
  const m = new RegExp(`cmdstat_${command}:calls=(\\d+),.*?rejected_calls=(\\d+)`).exec(info);
  return m ? Number(m[1]) + Number(m[2]) : 0;
}

describe("a Redis that refuses gw's writes", () => {
  test("full (OOM): said once with the fix, health down, retried with backoff, the channel still carries every change; its end said once", async () => {
    const r = await redis();
    const { store: a, log } = await replica(r.url);
    const { store: b } = await replica(r.url);
    const look = await r.client();
    await look.send("CONFIG", ["SET", "maxmemory-policy", "noeviction"]);
    await look.send("CONFIG", ["SET", "maxmemory", "1"]);

    const now = Date.now();
    for (let i = 0; i < 200; i++) a.setSticky(`s${i}`, "x/claude", now);
    a.addFailure("s0", now); // the streak script is refused too
    a.setCooldown("opus", "x/claude", { until: now + 60_000, kind: "quota", reason: "429", setAt: now });
    await until(() => b.sticky("s199", Date.now()) === "x/claude" && b.streak("s0", Date.now()) === 1 && b.cooldown("opus", "x/claude", Date.now()) !== undefined, 2000, () => "B to hear every change");
    await until(() => !a.health().up, 2000, () => "health to say so");
    expect(a.health().problem).toContain("OOM command not allowed");
    expect(a.health().problem).toContain("maxmemory");
    const said = () => log.lines.filter((l) => l.includes("OOM"));
    expect(said()).toHaveLength(1);
    expect(said()[0]).toContain("maxmemory-policy");

    // Over a second: the 201 refused keys are sent again a few times (backoff), not 40 times
    // (sessions' keys and the streak go by script; its SET inside is counted as a SET too).
    const writes = () => calls(r, "eval");
    const before = await writes();
    const t0 = Date.now();
    await until(() => Date.now() - t0 >= 1000, 2000);
    const resent = (await writes()) - before;
    console.log(`scripts sent in a second while Redis refuses them: ${resent}`);
    expect(resent).toBeLessThanOrEqual(201 * 4);
    expect(said()).toHaveLength(1);

    await look.send("CONFIG", ["SET", "maxmemory", "0"]);
    await until(async () => ((await look.send("KEYS", ["gw:st:*"])) as string[]).length === 200, 3000, () => "the refused keys to be written");
    await until(() => a.health().up, 1000);
    expect(await look.send("HGET", ["gw:fs:s0", "n"])).toBe("1");
    expect(await look.send("EXISTS", ["gw:cd:opus\0x/claude"])).toBe(1);
    expect(log.lines.filter((l) => l.startsWith("info") && l.includes("writes"))).toHaveLength(1);
  }, 20_000);

  test("full before gw connects: the link comes up all the same (the marker it cannot set is no lost Redis), and writes wait for room", async () => {
    const r = await redis();
    const look = await r.client();
    await look.send("CONFIG", ["SET", "maxmemory-policy", "noeviction"]);
    await look.send("CONFIG", ["SET", "maxmemory", "1"]);
    const { store: a, log } = await replica(r.url);
    const { store: b } = await replica(r.url);
    a.setSticky("s1", "x/claude", Date.now());
    await until(() => b.sticky("s1", Date.now()) === "x/claude", 2000, () => "B to hear the session through the channel");
    await until(() => !a.health().up, 2000, () => "health to say the writes are refused");
    expect(log.lines.filter((l) => l.includes("lost Redis") || l.includes("unreachable"))).toEqual([]);
    await look.send("CONFIG", ["SET", "maxmemory", "0"]);
    await until(async () => (await look.send("EXISTS", ["gw:st:s1", "gw:connected"])) === 2, 5000, () => "the session and the marker once there is room");
    await until(() => a.health().up, 2000);
  }, 20_000);

  test("an ACL without +@scripting: the streak, the session's key and the cooldown are refused (said once, with the fix), every change is published", async () => {
    const r = await redis();
    const look = await r.client();
    await look.send("ACL", ["SETUSER", "gw", "on", ">pw", "~*", "&*", "+@all", "-@scripting"]);
    const { store: a, log } = await replica(`redis://gw:pw@127.0.0.1:${r.port}`);
    const { store: b } = await replica(r.url);
    const now = Date.now();
    const cooldown = { until: now + 60_000, kind: "transient" as const, reason: "503", setAt: now };
    a.addFailure("s1", now);
    a.setSticky("s1", "y/claude", now);
    a.setCooldown("opus", "x/claude", cooldown);
    await until(() => b.sticky("s1", Date.now()) === "y/claude" && b.streak("s1", Date.now()) === 1 && b.cooldown("opus", "x/claude", Date.now()) !== undefined, 2000, () => "B to hear all three");
    expect(await look.send("EXISTS", ["gw:cd:opus\0x/claude", "gw:st:s1"])).toBe(0);
    await until(() => !a.health().up, 2000);
    expect(a.health().problem).toContain("NOPERM");
    expect(a.health().problem).toContain("+@scripting");
    a.setSticky("s2", "y/claude", now);
    await until(() => b.sticky("s2", Date.now()) === "y/claude", 2000, () => "B to hear the second session");
    expect(log.lines.filter((l) => l.includes("NOPERM"))).toHaveLength(1);
    expect(a.sticky("s2", Date.now())).toBe("y/claude");
  }, 20_000);
});
