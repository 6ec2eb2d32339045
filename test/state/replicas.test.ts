// Several gw as one gateway (`state = "redis://…"`): three real `gw up` processes share one real
// redis-server and the same `gw mock` instances (as `url` instances). Sessions stay on their target
// whichever replica they come through; a cooldown reaches the other replicas within a second with
// the same end time (measured), and a success anywhere clears it everywhere; a half-open target
// gets exactly one trial under a burst through all replicas; Redis killed mid-traffic and restarted
// empty costs no client request; Redis absent at start costs nothing either.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../helpers/ports.ts";
import type { StatusReport } from "../../src/supervisor/status.ts";
import { externalInstances } from "../helpers/lb.ts";
import { type MockServer, startMock } from "../helpers/mock.ts";
import { redisOnFreePort, startRedis, type TestRedis } from "../helpers/redis.ts";
import { gw, killAll, type RunningGw, startGw, until } from "../helpers/supervisor.ts";
import { tempDir } from "../helpers/tmp.ts";

const ROUTES = `[routing]
"rare" = [{ instance = "a", provider = "anthropic", model = "claude-a", weight = 95 }, { instance = "b", provider = "anthropic", model = "claude-b", weight = 5 }]
"flaky" = [{ instance = "c", provider = "anthropic", model = "claude-c" }, { instance = "d", provider = "anthropic", model = "claude-d" }]
`;
const COOLDOWN_MS = 3000; // connection errors cool for lb_transient_cooldown_ms

interface Replica {
  readonly name: string;
  readonly dir: string;
  readonly file: string;
  readonly url: string;
  readonly env: Record<string, string | undefined>;
  proc?: RunningGw;
}

const mocks: Record<string, MockServer> = {};
const mockPorts: Record<string, number> = {};
const replicas: Replica[] = [];
const servers: TestRedis[] = [];

function startMockOn(name: string, fault?: string): void {
  mocks[name] = startMock({ name, apiKeys: [`key-${name}`], port: mockPorts[name] ?? 0, ...(fault ? { fault } : {}) });
  mockPorts[name] = mocks[name]!.port;
}

async function replica(name: string, redis: TestRedis): Promise<Replica> {
  const dir = tempDir(`gw-replica-${name}-`);
  const port = await freePort();
  const file = join(dir, "providers.toml");
  const upstreams = Object.fromEntries(Object.keys(mocks).map((n) => [n, mocks[n]!.url]));
  writeFileSync(
    file,
    `[global]\nhost = "127.0.0.1"\nmain_port = ${port}\nstate = "${redis.url}"\nstate_prefix = "gw-test"\nlb_transient_cooldown_ms = ${COOLDOWN_MS}\nshutdown_grace_ms = 2000\n\n${externalInstances(upstreams)}\n${ROUTES}`,
  );
  const env = { ...process.env, XDG_CACHE_HOME: join(dir, "cache"), GW_CONFIG: undefined, GW_CLIPROXY: undefined, GW_STATE: undefined, NO_COLOR: "1" };
  const r: Replica = { name, dir, file, url: `http://127.0.0.1:${port}`, env };
  replicas.push(r);
  r.proc = startGw(r, ["up", "-c", file]);
  await r.proc.waitFor("serving on", 90_000);
  return r;
}

interface Answer {
  status: number;
  target: string;
}

async function ask(r: Replica, model: string, session?: string): Promise<Answer> {
  const res = await fetch(`${r.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(session ? { "x-claude-code-session-id": session } : {}) },
    body: JSON.stringify({ model, max_tokens: 16, messages: [{ role: "user", content: "hi" }] }),
  });
  await res.arrayBuffer();
  return { status: res.status, target: res.headers.get("x-gw-target") ?? "" };
}

interface StatusTarget {
  id: string;
  cooling: { until: number; kind: string; halfOpen: boolean } | null;
}

async function coolingOf(r: Replica, target: string): Promise<StatusTarget["cooling"]> {
  const s = (await (await fetch(`${r.url}/_gw/api/status`)).json()) as { routes: { name: string; targets: StatusTarget[] }[] };
  return s.routes.find((x) => x.name === "flaky")!.targets.find((t) => t.id === target)!.cooling;
}

async function backendUp(r: Replica): Promise<number | undefined> {
  const text = await (await fetch(`${r.url}/metrics`)).text();
  const m = /^gw_state_backend_up\{backend="redis"\} (\d)$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Through `via`, send requests until c (stopped) has cooled; its cooldown as `via` sees it. */
async function coolC(via: Replica): Promise<{ until: number; seenAt: number }> {
  await mocks.c!.stop();
  for (let i = 0; i < 50; i++) {
    expect(await ask(via, "flaky")).toMatchObject({ status: 200, target: "d/claude-d" });
    const seenAt = performance.now();
    const c = await coolingOf(via, "c/claude-c");
    if (c && !c.halfOpen) return { until: c.until, seenAt };
  }
  throw new Error("c never cooled");
}

describe("three gw on one Redis", () => {
  let redis: TestRedis;
  let a: Replica;
  let b: Replica;
  let c: Replica;
  beforeAll(async () => {
    redis = await startRedis();
    servers.push(redis);
    for (const n of ["a", "b", "c", "d"]) startMockOn(n);
    [a, b, c] = await Promise.all([replica("A", redis), replica("B", redis), replica("C", redis)]);
  }, 120_000);

  test("a session that started through A stays on its target through B and C", async () => {
    // What the replicas hear, to know when the session's target has been shared (a real
    // session's next turn comes seconds later; here it comes at once).
    const heard: string[] = [];
    const listener = await redis.client();
    await listener.subscribe("gw-test:changes", (m) => heard.push(m));
    let sid = "";
    for (let i = 0; i < 400 && !sid; i++) {
      const s = crypto.randomUUID();
      if ((await ask(a, "rare", s)).target === "b/claude-b") sid = s;
    }
    expect(sid).not.toBe("");
    await until(() => heard.some((m) => m.includes(`cc:${sid}::rare`)), 1000, () => "the session's target to be published");
    // b gets 5 % of fresh picks: 12 answers from b in a row are the shared sticky entry at work.
    for (let i = 0; i < 12; i++) expect(await ask([b, c, a][i % 3]!, "rare", sid)).toMatchObject({ status: 200, target: "b/claude-b" });
  }, 60_000);

  test("a cooldown set through A reaches B and C within a second with the same end; a success through B clears it for A", async () => {
    const { until: end, seenAt } = await coolC(a);
    const arrived: number[] = [];
    for (const r of [b, c]) {
      await until(async () => (await coolingOf(r, "c/claude-c"))?.until === end, 1000, () => `${r.name} to honour the cooldown`);
      arrived.push(performance.now() - seenAt);
    }
    console.log(`cooldown propagation A → B, C (gw processes, status polled): ${arrived.map((ms) => `${ms.toFixed(0)} ms`).join(", ")}`);
    // While it runs, B and C send nothing to c.
    for (let i = 0; i < 6; i++) expect(await ask([b, c][i % 2]!, "flaky")).toMatchObject({ status: 200, target: "d/claude-d" });

    startMockOn("c");
    await until(() => Date.now() > end, COOLDOWN_MS + 1000);
    // Half-open now: B's requests find c again (its trial succeeds), and A hears of it.
    await until(async () => (await ask(b, "flaky")).target === "c/claude-c", 10_000, () => "B to try c again");
    const cleared = performance.now();
    await until(async () => (await coolingOf(a, "c/claude-c")) === null, 1000, () => "A to hear of the success");
    console.log(`success propagation B → A: ${(performance.now() - cleared).toFixed(0)} ms`);
  }, 60_000);

  test("a half-open target gets exactly one trial under a concurrent burst through all replicas", async () => {
    const { until: end } = await coolC(a);
    for (const r of [b, c]) await until(async () => (await coolingOf(r, "c/claude-c"))?.until === end, 1000);
    // c comes back slow, so the trial is still in flight while the whole burst arrives.
    startMockOn("c", "slow-first=2500");
    // When the cooldown ends, A (which cooled c) probes c's instance first, token-free; only once
    // it has answered may a user's request be the trial.
    const upProbes = async () => Number(/gw_probes_total\{instance_name="c",result="up"\} (\d+)/.exec(await (await fetch(`${a.url}/metrics`)).text())?.[1] ?? 0);
    const before = await upProbes();
    await until(async () => (await upProbes()) > before, COOLDOWN_MS + 5000, () => "A's probe of c");
    const burst = await Promise.all(Array.from({ length: 60 }, (_, i) => ask([a, b, c][i % 3]!, "flaky")));
    expect(burst.filter((x) => x.status !== 200)).toEqual([]);
    // One probe (from the replica that won the trial of the cooldown) and one trial request in all.
    expect(mocks.c!.stats().byPath).toEqual({ "/v1/models": 1, "/v1/messages": 1 });
    expect(burst.filter((x) => x.target === "c/claude-c")).toHaveLength(1);
    // The trial succeeded: c is healthy on every replica again.
    for (const r of [a, b, c]) await until(async () => (await coolingOf(r, "c/claude-c")) === null, 1000);
    await mocks.c!.stop();
    startMockOn("c");
  }, 60_000);

  test("Redis killed mid-traffic and restarted empty: no client request fails; every replica says so once and re-syncs", async () => {
    let ok = 0;
    const failed: string[] = [];
    let running = true;
    const sessions = Array.from({ length: 6 }, () => crypto.randomUUID());
    const worker = async (w: number) => {
      for (let i = 0; running; i++) {
        const r = replicas[(w + i) % 3]!;
        try {
          const x = await ask(r, i % 2 ? "rare" : "flaky", sessions[(w + i) % sessions.length]);
          if (x.status === 200) ok++;
          else failed.push(`${r.name}: ${x.status}`);
        } catch (err) {
          failed.push(`${r.name}: ${(err as Error).message}`);
        }
      }
    };
    const workers = [0, 1, 2, 3].map(worker);
    await until(() => ok >= 40, 20_000, () => "traffic to flow");

    await redis.kill();
    const killedAt = ok;
    for (const r of [a, b, c]) await until(async () => (await backendUp(r)) === 0, 5000, () => `${r.name} to report Redis down`);
    const report = JSON.parse((await gw(a, ["status", "--json", "-c", a.file])).stdout) as StatusReport;
    expect(report.state).toMatchObject({ backend: "redis", up: false });
    expect((await gw(a, ["status", "-c", a.file])).stdout).toMatch(/^state {3}redis redis:\/\/127\.0\.0\.1:\d+ {2}DOWN .*serving from local state$/m);
    await until(() => ok >= killedAt + 40, 20_000, () => "traffic to go on without Redis");

    await redis.start(); // empty: nothing was saved
    for (const r of [a, b, c]) await until(async () => (await backendUp(r)) === 1, 10_000, () => `${r.name} to reconnect`);
    const backAt = ok;
    await until(() => ok >= backAt + 40, 20_000, () => "traffic after the restart");
    running = false;
    await Promise.all(workers);
    expect(failed).toEqual([]);
    console.log(`Redis killed and restarted under traffic: ${ok} requests answered, ${failed.length} failed`);

    for (const r of [a, b, c]) {
      const log = readFileSync(join(r.dir, "logs", "gw.log"), "utf8");
      expect(log.match(/WARN .*lost Redis/g)).toHaveLength(1);
      expect(log).toMatch(/INFO .*reachable again; shared state re-synced/);
    }
    // Shared again: the sessions of the traffic went on where they were, and Redis has them back.
    const look = await redis.client();
    await until(async () => ((await look.send("KEYS", ["gw-test:st:*"])) as string[]).length > 0, 5000, () => "sticky keys back in Redis");
  }, 120_000);

  afterAll(async () => {
    for (const r of replicas) await killAll(r, r.proc);
  });
});

describe("Redis absent when gw starts", () => {
  test("gw serves from local state, says so once in gw status, /metrics and its log, and joins when Redis comes", async () => {
    const redis = await redisOnFreePort();
    servers.push(redis);
    for (const n of ["a", "b", "c", "d"]) if (!mocks[n]) startMockOn(n);
    const [x, y] = await Promise.all([replica("X", redis), replica("Y", redis)]);
    try {
      for (const r of [x, y]) {
        expect(await ask(r, "rare")).toMatchObject({ status: 200 });
        expect(await backendUp(r)).toBe(0);
        const report = JSON.parse((await gw(r, ["status", "--json", "-c", r.file])).stdout) as StatusReport;
        expect(report.state).toMatchObject({ backend: "redis", up: false });
      }
      await redis.start();
      for (const r of [x, y]) await until(async () => (await backendUp(r)) === 1, 10_000, () => `${r.name} to connect`);
      for (const r of [x, y]) {
        const log = readFileSync(join(r.dir, "logs", "gw.log"), "utf8");
        expect(log.match(/WARN .*Redis at redis:\/\/127\.0\.0\.1:\d+ unreachable/g)).toHaveLength(1);
      }
      // Now one gateway: a cooldown through X reaches Y.
      const { until: end } = await coolC(x);
      await until(async () => (await coolingOf(y, "c/claude-c"))?.until === end, 1000, () => "Y to honour X's cooldown");
      startMockOn("c");
    } finally {
      for (const r of [x, y]) await killAll(r, r.proc);
    }
  }, 150_000);
});

afterAll(async () => {
  for (const m of Object.values(mocks)) await m.stop();
  for (const r of servers) await r.stop();
});
