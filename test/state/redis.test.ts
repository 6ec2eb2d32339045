// `state = "redis://…"` in-process: several stores on one real redis-server behave as one —
// changes reach the others within a second, the half-open trial is claimed once, every key has a
// TTL and a prefix — and a Redis that is absent, lost or restarted empty never breaks a store.
import { describe, expect, test } from "bun:test";
import { openRedisState } from "../../src/state/redis.ts";
import { keySpace, readAll } from "../../src/state/redis-keys.ts";
import { LOST_CLAIM_RECHECK_MS } from "../../src/state/redis-trial.ts";
import { isAvailable } from "../../src/state/types.ts";
import type { StateBackend } from "../../src/state/index.ts";
import { cleanedUp, redisOnFreePort, startRedis, type TestRedis } from "../helpers/redis.ts";
import { until } from "../helpers/supervisor.ts";

const FAST = { backoffMinMs: 50, backoffMaxMs: 200, heartbeatMs: 300, heartbeatTimeoutMs: 300, connectTimeoutMs: 500 };
const { open, servers } = cleanedUp();

function logger() {
  const lines: string[] = [];
  return { lines, info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`) };
}

async function replica(redis: TestRedis, prefix = "gw", log = logger()) {
  const store = await openRedisState({ url: redis.url, prefix, log, timing: FAST });
  open.push(store);
  return { store, log };
}

async function redis(): Promise<TestRedis> {
  const r = await startRedis();
  servers.push(r);
  return r;
}

const cooldown = (until: number) => ({ until, kind: "transient_heavy" as const, reason: "429", setAt: until - 60_000 });

/** Two replicas on `r`; A set a session and a cooldown, and B has heard both. */
async function sharingASessionAndACooldown(r: TestRedis) {
  const { store: a, log } = await replica(r);
  const { store: b } = await replica(r);
  const now = Date.now();
  a.setSticky("cc:s1::opus", "x/claude", now);
  a.setCooldown("opus", "x/claude", cooldown(now + 60_000));
  await until(() => b.sticky("cc:s1::opus", now) === "x/claude" && b.cooldown("opus", "x/claude", Date.now()) !== undefined, 1000);
  return { a, b, log, now };
}

describe("two gw on one Redis", () => {
  test("a cooldown set on A is honoured by B within a second, with the same end; a success on B clears it for A", async () => {
    const r = await redis();
    const { store: a } = await replica(r);
    const { store: b } = await replica(r);
    const end = Date.now() + 60_000;
    const t0 = performance.now();
    a.setCooldown("opus", "x/claude", cooldown(end));
    await until(() => b.cooldown("opus", "x/claude", Date.now()) !== undefined, 1000, () => "B to hear of the cooldown");
    const ms = performance.now() - t0;
    expect(b.cooldown("opus", "x/claude", Date.now())).toEqual(cooldown(end));
    console.log(`cooldown propagation A → B (in-process): ${ms.toFixed(1)} ms`);
    b.clearCooldown("opus", "x/claude");
    await until(() => a.cooldown("opus", "x/claude", Date.now()) === undefined, 1000, () => "A to hear of the success");
  });

  test("sticky keys, signature locks and failure streaks are shared; streaks count failures on every replica", async () => {
    const r = await redis();
    const { store: a } = await replica(r);
    const { store: b } = await replica(r);
    const now = Date.now();
    a.setSticky("cc:s1::opus", "y/claude", now);
    await until(() => b.sticky("cc:s1::opus", now) === "y/claude", 1000);
    expect(a.addFailure("cc:s1::opus", now)).toBe(1);
    await until(() => b.streak("cc:s1::opus", now) === 1, 1000);
    b.addFailure("cc:s1::opus", now + 1);
    await until(() => a.streak("cc:s1::opus", now) === 2 && b.streak("cc:s1::opus", now) === 2, 1000, () => `streaks ${a.streak("cc:s1::opus", now)} ${b.streak("cc:s1::opus", now)}`);
    a.resetStreak("cc:s1::opus");
    a.clearSticky("cc:s1::opus");
    await until(() => b.streak("cc:s1::opus", now) === 0 && b.sticky("cc:s1::opus", now) === undefined, 1000);
  });

  test("a half-open target gets one trial across replicas; the next cooldown period gets its own", async () => {
    const r = await redis();
    const replicas = await Promise.all([replica(r), replica(r), replica(r)]);
    const [a, b, c] = replicas.map((x) => x.store) as [StateBackend, StateBackend, StateBackend];
    const now = Date.now();
    a.setCooldown("opus", "x/claude", cooldown(now - 1)); // over: half-open
    await until(() => [b, c].every((s) => s.cooldown("opus", "x/claude", Date.now()) !== undefined), 1000);
    const claims = await Promise.all([a, b, c, a, b, c].map((s) => s.claimTrial("opus", "x/claude", now + 5_000)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    // The trial failed: a new cooldown, over again at once, and a new trial for whoever comes first.
    const holder = [a, b, c, a, b, c][claims.indexOf(true)]!;
    holder.setCooldown("opus", "x/claude", cooldown(Date.now() - 1));
    await until(() => [a, b, c].every((s) => s.cooldown("opus", "x/claude", Date.now())?.trialUntil === undefined), 1000);
    expect((await Promise.all([c.claimTrial("opus", "x/claude", Date.now() + 5_000), b.claimTrial("opus", "x/claude", Date.now() + 5_000)]))).toEqual([true, false]);
  });

  test("a replica that lost the trial claim asks again within a second once the holder ends the trial early", async () => {
    // The holder's early end (its probe answered, its client left) is a DEL nobody hears of: the
    // loser must not stay away for its whole trial window (a minute for a first-byte timeout).
    const r = await redis();
    const { store: a } = await replica(r);
    const { store: b } = await replica(r);
    a.setCooldown("opus", "x/claude", cooldown(Date.now() - 1));
    await until(() => b.cooldown("opus", "x/claude", Date.now()) !== undefined, 1000);
    expect(await a.claimTrial("opus", "x/claude", Date.now() + 60_000)).toBe(true);
    const lost = Date.now();
    expect(await b.claimTrial("opus", "x/claude", lost + 60_000)).toBe(false);
    expect(isAvailable(b.cooldown("opus", "x/claude", Date.now()), Date.now())).toBe(false);
    a.endTrial("opus", "x/claude");
    await until(() => isAvailable(b.cooldown("opus", "x/claude", Date.now()), Date.now()), 2000, () => "B to ask again");
    expect(Date.now() - lost).toBeLessThanOrEqual(LOST_CLAIM_RECHECK_MS + 250);
    expect(await b.claimTrial("opus", "x/claude", Date.now() + 60_000)).toBe(true);
  });

  test("an extended trial keeps the other replicas from claiming it past its first window", async () => {
    const r = await redis();
    const { store: a } = await replica(r);
    const { store: b } = await replica(r);
    a.setCooldown("opus", "x/claude", cooldown(Date.now() - 1));
    await until(() => b.cooldown("opus", "x/claude", Date.now()) !== undefined, 1000);
    const first = Date.now() + 300;
    expect(await a.claimTrial("opus", "x/claude", first)).toBe(true);
    a.extendTrial("opus", "x/claude", Date.now() + 60_000);
    const look = await r.client();
    await until(async () => Number(await look.send("PTTL", [(await look.send("KEYS", ["*:tr:*"]) as string[])[0]!])) > 30_000, 1000, () => "the claim's TTL to grow");
    await until(() => Date.now() > first + 50, 1000);
    expect(await b.claimTrial("opus", "x/claude", Date.now() + 60_000)).toBe(false);
  });

  test("a cooldown that ends between two milliseconds (a relay's fractional x-ratelimit-reset) reaches Redis, and its trial is still claimed once", async () => {
    // classify.ts takes `x-ratelimit-reset: 1796200391.1234` as 30000.12… ms: the end is no whole
    // ms, and Redis takes only whole ones after PX (`ERR value is not an integer`).
    const r = await redis();
    const { store: a } = await replica(r);
    const { store: b } = await replica(r);
    const look = await r.client();
    const now = Date.now();
    a.setCooldown("opus", "x/claude", cooldown(now + 60_000.123));
    a.setCooldown("opus", "y/claude", cooldown(now - 0.5)); // over: half-open
    await until(async () => Number(await look.send("EXISTS", ["gw:cd:opus\0x/claude", "gw:cd:opus\0y/claude"])) === 2, 1000, () => "both cooldowns in Redis");
    const { store: later } = await replica(r);
    expect(later.cooldown("opus", "x/claude", Date.now())?.until).toBe(now + 60_000.123);
    await until(() => b.cooldown("opus", "y/claude", Date.now()) !== undefined, 1000);
    const window = Date.now() + 5_000.5;
    const claims = await Promise.all([a.claimTrial("opus", "y/claude", window), b.claimTrial("opus", "y/claude", window)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  test("every key has a TTL and the prefix; another prefix is another gateway", async () => {
    const r = await redis();
    const { store: a } = await replica(r, "team-a");
    const { store: other } = await replica(r, "team-b");
    const now = Date.now();
    a.setCooldown("opus", "x/claude", cooldown(now + 60_000));
    a.setCooldown("opus", "y/claude", cooldown(now - 1));
    await a.claimTrial("opus", "y/claude", now + 5_000);
    a.setSticky("cc:s1::opus", "x/claude", now);
    a.addFailure("anon::opus", now);
    const look = await r.client();
    await until(async () => ((await look.send("KEYS", ["*"])) as string[]).length === 8, 1000);
    const keys = ((await look.send("KEYS", ["*"])) as string[]).sort();
    expect(keys.map((k) => k.split(":").slice(0, 2).join(":"))).toEqual(["team-a:cd", "team-a:cd", "team-a:connected", "team-a:fs", "team-a:st-by-use", "team-a:st", "team-a:tr", "team-b:connected"]);
    for (const k of keys) expect(Number(await look.send("PTTL", [k]))).toBeGreaterThan(0);
    expect(other.cooldown("opus", "x/claude", Date.now())).toBeUndefined();
    expect(other.sticky("cc:s1::opus", now)).toBeUndefined();
  });

  test("another database is another gateway: changes on /0 do not reach a replica on /1, though channels span databases", async () => {
    const r = await redis();
    const { store: a } = await replica(r);
    const { store: sameDb } = await replica(r);
    const other = await openRedisState({ url: `${r.url}/1`, prefix: "gw", log: logger(), timing: FAST });
    open.push(other);
    const now = Date.now();
    a.setCooldown("opus", "x/claude", cooldown(now + 60_000));
    a.setSticky("cc:s1::opus", "x/claude", now);
    await until(() => sameDb.sticky("cc:s1::opus", now) === "x/claude" && sameDb.cooldown("opus", "x/claude", Date.now()) !== undefined, 1000, () => "the replica on /0 to hear it");
    await Bun.sleep(200); // heard on /0 already: a message to /1 would have come with it
    expect(other.cooldown("opus", "x/claude", Date.now())).toBeUndefined();
    expect(other.sticky("cc:s1::opus", now)).toBeUndefined();
  });

  test("a ?db=N URL (which gw check refuses) keeps keys and channel in one database: replicas on it and on the plain URL hear each other", async () => {
    const r = await redis();
    const withDb = await openRedisState({ url: `${r.url}?db=3`, prefix: "gw", log: logger(), timing: FAST });
    open.push(withDb);
    const { store: plain } = await replica(r);
    withDb.setCooldown("opus", "x/claude", cooldown(Date.now() + 60_000));
    await until(() => plain.cooldown("opus", "x/claude", Date.now()) !== undefined, 1000, () => "the replica on the plain URL to hear it (the channel was gw:changes:db3, the keys in database 0)");
    const look = await r.client();
    expect(await look.send("EXISTS", ["gw:cd:opus\0x/claude"])).toBe(1); // database 0, as the client reads the URL
  });

  test("a reconnection reads of sticky and streak keys only the newest, as many as the store keeps", async () => {
    const r = await redis();
    const { store: a } = await replica(r);
    const now = Date.now();
    a.setCooldown("opus", "x/claude", cooldown(now + 60_000));
    for (let i = 0; i < 5; i++) {
      a.setSticky(`cc:s${i}::opus`, "x/claude", now - 1000 + i);
      a.addFailure(`cc:s${i}::opus`, now - 1000 + i);
    }
    const look = await r.client();
    await until(async () => ((await look.send("KEYS", ["*"])) as string[]).length === 13, 1000, () => "the keys in Redis");
    const read = await readAll(look, keySpace("gw"), Date.now(), 2);
    expect(read.map((c) => (c.op === "setCooldown" ? c.op : `${c.op} ${"key" in c ? c.key : ""}`))).toEqual([
      "setCooldown",
      "setSticky cc:s3::opus",
      "setSticky cc:s4::opus",
      "setStreak cc:s3::opus",
      "setStreak cc:s4::opus",
    ]);
  });

  test("a new session id per request keeps no more sticky keys in Redis than the store keeps: the least recently used go", async () => {
    const r = await redis();
    const a = await openRedisState({ url: r.url, prefix: "gw", log: logger(), timing: FAST, stickyMax: 50 });
    open.push(a);
    const now = Date.now();
    for (let i = 0; i < 400; i++) a.setSticky(`cc:one-off-${i}::opus`, "x/claude", now - 400 + i);
    a.setSticky("cc:one-off-0::opus", "y/claude", now); // used again: the newest
    a.clearSticky("cc:one-off-399::opus");
    const look = await r.client();
    const stored = async () => ((await look.send("KEYS", ["gw:st:*"])) as string[]).map((k) => k.slice("gw:st:".length)).sort();
    // The newest 50 less the one cleared: sessions 350–398 and 0, used again.
    const newest = [0, ...Array.from({ length: 49 }, (_, i) => 350 + i)].map((i) => `cc:one-off-${i}::opus`).sort();
    await until(async () => Bun.deepEquals(await stored(), newest), 3000, () => "the newest 50 sessions alone in Redis");
    expect(Number(await look.send("ZCARD", ["gw:st-by-use"]))).toBe(50);
    expect(Number(await look.send("PTTL", ["gw:st-by-use"]))).toBeGreaterThan(0);
  });

  test("a gw that starts later loads what the others hold", async () => {
    const r = await redis();
    const { store: a } = await replica(r);
    const now = Date.now();
    a.setCooldown("opus", "x/claude", cooldown(now + 60_000));
    a.setSticky("cc:s1::opus", "x/claude", now);
    a.addFailure("cc:s1::opus", now);
    const look = await r.client();
    await until(async () => ((await look.send("KEYS", ["*"])) as string[]).length === 5, 1000);
    const { store: late } = await replica(r);
    expect(late.cooldown("opus", "x/claude", Date.now())).toEqual(cooldown(now + 60_000));
    expect(late.sticky("cc:s1::opus", now)).toBe("x/claude");
    expect(late.streak("cc:s1::opus", now)).toBe(1);
  });
});

describe("Redis trouble never breaks a store", () => {
  test("absent at start: serves from local state, one warning, health down; connects later and shares what changed meanwhile", async () => {
    const r = await redisOnFreePort();
    servers.push(r);
    const t0 = performance.now();
    const { store: a, log } = await replica(r);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(a.health()).toMatchObject({ backend: "redis", up: false, where: r.url });
    const now = Date.now();
    a.setSticky("cc:s1::opus", "x/claude", now);
    expect(a.sticky("cc:s1::opus", now)).toBe("x/claude");
    expect(await a.claimTrial("opus", "x/claude", now + 1000)).toBe(true); // no Redis: the trial is ours
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatch(/^warn state: Redis at redis:\/\/127\.0\.0\.1:\d+ unreachable .*serving from local state/);

    await r.start(); // reconnect attempts failed every 50-200 ms meanwhile: still the one warning
    await until(() => a.health().up, 5000, () => "A to connect");
    expect(log.lines).toHaveLength(2);
    expect(log.lines[1]).toMatch(/^info .*reachable again/);
    const { store: b } = await replica(r);
    expect(b.sticky("cc:s1::opus", now)).toBe("x/claude");
  });

  test("lost while running, restarted empty: no crash, local state kept and given back to Redis, changes flow again", async () => {
    const r = await redis();
    const { a, b, log, now } = await sharingASessionAndACooldown(r);

    await r.kill();
    await until(() => !a.health().up && !b.health().up, 3000, () => "both to notice");
    // Meanwhile: reads and writes go on locally.
    a.setSticky("cc:s2::opus", "y/claude", now);
    expect(a.sticky("cc:s1::opus", now)).toBe("x/claude");
    expect(await b.claimTrial("opus", "z/claude", now + 1000)).toBe(true);

    await r.start();
    await until(() => a.health().up && b.health().up, 5000, () => "both to reconnect");
    expect(log.lines.filter((l) => l.startsWith("warn"))).toHaveLength(1);
    // Nothing was lost locally, and Redis got it back (the second session reached B through it).
    expect(b.cooldown("opus", "x/claude", Date.now())).toEqual(cooldown(now + 60_000));
    await until(() => b.sticky("cc:s2::opus", now) === "y/claude", 2000, () => "B to get the session set while Redis was away");
    const { store: late } = await replica(r);
    expect(late.sticky("cc:s1::opus", now)).toBe("x/claude");
    b.clearCooldown("opus", "x/claude");
    await until(() => a.cooldown("opus", "x/claude", Date.now()) === undefined, 1000);
  });

  test("emptied while connected (FLUSHALL): noticed by the heartbeat, said once, refilled from what the gw know; a gw started later has it", async () => {
    const r = await redis();
    const { a, b, log, now } = await sharingASessionAndACooldown(r);
    const look = await r.client();
    await look.send("FLUSHALL", []);
    // Either replica may write them back first: A's own re-sync is the line that says it is done.
    await until(async () => log.lines.length === 2 && Number(await look.send("EXISTS", ["gw:st:cc:s1::opus", "gw:cd:opus\0x/claude"])) === 2, 5000, () => `A to re-sync and the keys to be written again (${log.lines})`);
    expect(log.lines).toEqual([
      expect.stringMatching(/^warn state: lost Redis at .* \(its keys are gone \(FLUSHALL, FLUSHDB, eviction or a DEL\)\); serving from local state/),
      expect.stringMatching(/^info state: Redis at .* reachable again; shared state re-synced$/),
    ]);
    const { store: late } = await replica(r);
    expect(late.sticky("cc:s1::opus", now)).toBe("x/claude");
    expect(late.cooldown("opus", "x/claude", Date.now())).toEqual(cooldown(now + 60_000));
  });

  test("cut off while another replica clears a cooldown, back on the same Redis: the clear stands (Redis holding nothing is not a restart)", async () => {
    const r = await redis();
    const admin = await r.client();
    await admin.send("ACL", ["SETUSER", "alice", "on", ">al1ce-pw", "~*", "&*", "+@all"]);
    const cut = await openRedisState({ url: `redis://alice:al1ce-pw@127.0.0.1:${r.port}`, prefix: "gw", log: logger(), timing: FAST });
    open.push(cut);
    const { store: b } = await replica(r);
    const now = Date.now();
    cut.setCooldown("opus", "x/claude", { ...cooldown(now + 12 * 3600_000), kind: "quota" });
    await until(() => b.cooldown("opus", "x/claude", Date.now()) !== undefined, 1000, () => "B to hear the cooldown");

    await admin.send("ACL", ["SETUSER", "alice", "off"]);
    await admin.send("CLIENT", ["KILL", "USER", "alice"]);
    await until(() => !cut.health().up, 3000, () => "the cut replica to notice");
    b.clearCooldown("opus", "x/claude");
    await until(async () => ((await admin.send("KEYS", ["gw:cd:*"])) as string[]).length === 0, 1000, () => "the clear in Redis");

    await admin.send("ACL", ["SETUSER", "alice", "on"]);
    await until(() => cut.health().up, 5000, () => "the cut replica to reconnect");
    expect(cut.cooldown("opus", "x/claude", Date.now())).toBeUndefined();
    expect(await admin.send("KEYS", ["gw:cd:*"])).toEqual([]);
    expect(b.cooldown("opus", "x/claude", Date.now())).toBeUndefined();
  });

  test("a wrong or missing password: one warning with Redis's refusal and the fix, never the password; serving from local state; user, password and db number work", async () => {
    const r = await startRedis({ args: ["--requirepass", "s3cret-pw"], clientUrl: (port) => `redis://:s3cret-pw@127.0.0.1:${port}` });
    servers.push(r);
    const admin = await r.client();
    await admin.send("ACL", ["SETUSER", "alice", "on", ">al1ce-pw", "~*", "&*", "+@all"]);
    const connections = async () => Number(/total_connections_received:(\d+)/.exec(String(await admin.send("INFO", ["stats"])))?.[1]);
    const at = (auth: string, db = "") => `redis://${auth}127.0.0.1:${r.port}${db}`;
    const cases = [
      { url: at(":wrong-pw@"), said: /refused the credentials \(WRONGPASS [^)]*\): put the right password \(and user, if Redis has users\) in the URL of \[global\] state$/ },
      { url: at("alice:wrong-pw@", "/3"), said: /refused the credentials \(WRONGPASS / },
      { url: at(""), said: /refused the credentials \(NOAUTH: Redis wants a password\)/ },
    ];
    for (const { url, said } of cases) {
      const log = logger();
      const s = await openRedisState({ url, prefix: "gw", log, timing: FAST });
      open.push(s);
      const health = s.health();
      expect(health).toMatchObject({ up: false, where: at("", url.endsWith("/3") ? "/3" : "") });
      expect(health.problem).toMatch(said);
      s.setSticky("cc:s1::opus", "x/claude", Date.now()); // serves from memory
      expect(s.sticky("cc:s1::opus", Date.now())).toBe("x/claude");
      const seen = await connections();
      await until(async () => (await connections()) >= seen + 6, 5000, () => "more reconnect attempts"); // still the one warning
      expect(log.lines).toHaveLength(1);
      expect(log.lines[0]).toStartWith(`warn state: Redis at ${health.where} refused the credentials (`);
      expect(log.lines[0]).toMatch(said.source.endsWith("$") ? new RegExp(said.source.slice(0, -1)) : said);
      expect(log.lines[0]).not.toContain("wrong-pw");
      await s.close();
    }
    const good = await openRedisState({ url: at("alice:al1ce-pw@", "/3"), prefix: "gw", log: logger(), timing: FAST });
    open.push(good);
    expect(good.health().up).toBe(true);
    good.setSticky("cc:s2::opus", "y/claude", Date.now());
    await admin.send("SELECT", ["3"]);
    await until(async () => (await admin.send("EXISTS", ["gw:st:cc:s2::opus"])) === 1, 1000, () => "the key in db 3");
  });

  test("a database Redis does not have (/20 of its 16): one warning with Redis's refusal and the fix, not \"unreachable (Connection closed)\"; retried quietly", async () => {
    const r = await redis();
    const admin = await r.client();
    const connections = async () => Number(/total_connections_received:(\d+)/.exec(String(await admin.send("INFO", ["stats"])))?.[1]);
    const log = logger();
    const s = await openRedisState({ url: `${r.url}/20`, prefix: "gw", log, timing: FAST });
    open.push(s);
    const said = "refused the database (ERR DB index is out of range): put a database it has in the URL of [global] state (/0 to /15, unless its `databases` setting is raised)";
    expect(s.health()).toMatchObject({ up: false, where: `${r.url}/20`, problem: said });
    const seen = await connections();
    await until(async () => (await connections()) >= seen + 6, 5000, () => "more reconnect attempts");
    expect(log.lines).toEqual([`warn state: Redis at ${r.url}/20 ${said}; serving from local state, reconnecting in the background`]);
  });

  test("an ACL user: a command it may not run is said with the categories gw needs; a heartbeat it may not run still proves the link alive", async () => {
    const r = await redis();
    const admin = await r.client();
    await admin.send("ACL", ["SETUSER", "noscan", "on", ">pw-1", "~*", "&*", "+@all", "-scan"]);
    await admin.send("ACL", ["SETUSER", "nobeat", "on", ">pw-2", "~*", "&*", "+@all", "-pexpire"]);
    const at = (auth: string) => `redis://${auth}@127.0.0.1:${r.port}`;
    const log = logger();
    const noscan = await openRedisState({ url: at("noscan:pw-1"), prefix: "gw", log, timing: FAST });
    open.push(noscan);
    expect(noscan.health().problem).toBe(
      "refused a command (NOPERM this user has no permissions to run the 'scan' command): let the user in the URL of [global] state run +@read +@write +@pubsub +@scripting +@connection on its keys and channel (or +@all)",
    );
    expect(log.lines).toEqual([`warn state: Redis at ${r.url} ${noscan.health().problem}; serving from local state, reconnecting in the background`]);

    const quiet = logger();
    const nobeat = await openRedisState({ url: at("nobeat:pw-2"), prefix: "gw", log: quiet, timing: FAST });
    open.push(nobeat);
    expect(nobeat.health().up).toBe(true);
    const refused = async () => Number(/cmdstat_pexpire:calls=(\d+),.*rejected_calls=(\d+)/.exec(String(await admin.send("INFO", ["commandstats"])))?.[2] ?? 0);
    const before = await refused();
    await until(async () => (await refused()) >= before + 3, 5000, () => "three refused heartbeats");
    expect(nobeat.health().up).toBe(true);
    expect(quiet.lines).toEqual([]);
  });

  test("restarted from an older save: what changed since the save is kept (a running cooldown is not taken for cleared) and what was cleared since stays cleared", async () => {
    const r = await redis();
    const { store: a } = await replica(r);
    const { store: b } = await replica(r);
    const look = await r.client();
    const now = Date.now();
    const cd = (setAt: number, ms: number) => ({ until: setAt + ms, kind: "quota" as const, reason: "429", setAt });
    // In the save: a long cooldown and a session, both changed afterwards.
    a.setCooldown("opus", "old/claude", cd(now - 1000, 3600_000));
    a.setSticky("cc:s1::opus", "x/claude", now - 1000);
    await until(async () => ((await look.send("KEYS", ["gw:*"])) as string[]).length === 4, 1000, () => "the keys to reach Redis"); // a cooldown, a session, the sessions' index, the marker
    await r.save();
    // After the save: the old cooldown ends with a success, a new 429 cools x, the session moves.
    b.clearCooldown("opus", "old/claude");
    a.setCooldown("opus", "x/claude", cd(now, 600_000));
    a.setSticky("cc:s1::opus", "y/claude", now);
    await until(() => b.cooldown("opus", "x/claude", Date.now()) !== undefined && b.sticky("cc:s1::opus", now) === "y/claude" && a.cooldown("opus", "old/claude", Date.now()) === undefined, 1000);

    await r.kill();
    await until(() => !a.health().up && !b.health().up, 3000, () => "both to notice");
    await r.start(); // from the save
    await until(() => a.health().up && b.health().up, 5000, () => "both to reconnect");
    const { store: late } = await replica(r);
    for (const [name, s] of Object.entries({ a, b, late })) {
      expect([name, s.cooldown("opus", "x/claude", Date.now())]).toEqual([name, cd(now, 600_000)]);
      expect([name, s.cooldown("opus", "old/claude", Date.now())]).toEqual([name, undefined]);
      expect([name, s.sticky("cc:s1::opus", Date.now())]).toEqual([name, "y/claude"]);
    }
  });
});
