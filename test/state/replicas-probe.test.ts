// A cooldown another replica set is probed here too before a user's request may be its trial: two
// real `gw up` processes share a real redis-server; instance c is down (it answers every request,
// probes included, with 503, and counts them). X cools c, then dies before the cooldown ends, so
// nobody is left to probe c but Y, which only heard of the cooldown. Y must probe c itself (once
// X's claim on the trial has run out) and keep its users' requests away from c.
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../helpers/ports.ts";
import { externalInstances, testUpstream } from "../helpers/lb.ts";
import { startMock } from "../helpers/mock.ts";
import { redisOnFreePort, startRedis, type TestRedis } from "../helpers/redis.ts";
import { killAll, type RunningGw, startGw, timesLogged, until, untilLogged } from "../helpers/supervisor.ts";
import { tempDir } from "../helpers/tmp.ts";

const COOLDOWN_MS = 4000; // a 503 cools for lb_transient_heavy_cooldown_ms
const answer = { id: "msg_c", type: "message", role: "assistant", model: "claude-c", content: [{ type: "text", text: "hi" }], stop_reason: "end_turn", usage: { input_tokens: 1, output_tokens: 1 } };

interface Replica {
  readonly name: string;
  readonly dir: string;
  readonly url: string;
  readonly env: Record<string, string | undefined>;
  proc?: RunningGw;
}

const replicas: Replica[] = [];
const servers: TestRedis[] = [];

async function replica(name: string, redisUrl: string, upstreams: Record<string, string>): Promise<Replica> {
  const dir = tempDir(`gw-replica-${name}-`);
  const port = await freePort();
  const file = join(dir, "providers.toml");
  writeFileSync(
    file,
    `[global]\nhost = "127.0.0.1"\nmain_port = ${port}\nstate = "${redisUrl}"\nstate_prefix = "gw-probe"\nlb_transient_heavy_cooldown_ms = ${COOLDOWN_MS}\nshutdown_grace_ms = 1000\n\n` +
      `${externalInstances(upstreams)}\n[routing]\n"flaky" = [{ instance = "c", provider = "anthropic", model = "claude-c", priority = 1 }, { instance = "d", provider = "anthropic", model = "claude-d" }]\n`,
  );
  const env = { ...process.env, XDG_CACHE_HOME: join(dir, "cache"), GW_CONFIG: undefined, GW_CLIPROXY: undefined, GW_STATE: undefined, NO_COLOR: "1" };
  const r: Replica = { name, dir, url: `http://127.0.0.1:${port}`, env };
  replicas.push(r);
  r.proc = startGw(r, ["up", "-c", file]);
  await r.proc.waitFor("serving on", 90_000);
  return r;
}

async function ask(r: Replica): Promise<string> {
  const res = await fetch(`${r.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "flaky", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }),
  });
  await res.arrayBuffer();
  expect(res.status).toBe(200);
  return res.headers.get("x-gw-target") ?? "";
}

async function cUntil(r: Replica): Promise<number | undefined> {
  const s = (await (await fetch(`${r.url}/_gw/api/status`)).json()) as { routes: { name: string; targets: { id: string; cooling: { until: number } | null }[] }[] };
  return s.routes.find((x) => x.name === "flaky")!.targets.find((t) => t.id === "c/claude-c")!.cooling?.until;
}

const downProbes = async (r: Replica) => Number(/gw_probes_total\{instance_name="c",result="down"\} (\d+)/.exec(await (await fetch(`${r.url}/metrics`)).text())?.[1] ?? 0);

const unavailable = () => Response.json({ type: "error", error: { type: "api_error", message: "down" } }, { status: 503 });

/**
 * Instance c, down by default: every request (probes too) gets 503; `posts` counts users'
 * requests, `probes` its probes (GET /v1/models). Instance d serves.
 */
function instances(reply: (req: Request) => Response = unavailable) {
  const c = testUpstream(reply);
  const d = startMock({ name: "d", apiKeys: ["key-d"] });
  return {
    urls: { c: c.url, d: d.url },
    posts: () => c.seen.filter((s) => s.method === "POST").length,
    probes: () => c.seen.filter((s) => s.path.startsWith("/v1/models")).length,
    stop: async () => {
      await c.stop();
      await d.stop();
    },
  };
}

/**
 * Y's users go on asking until Y has probed c, and none of their requests may reach c before (one
 * that does ends the wait: the failure). When the dead replica's claim on the trial runs out, Y's
 * prober takes it for its probe: a user's request takes a trial only once a probe has answered,
 * never in that moment (state/redis.ts). Before these cooldowns were watched, every request from
 * the cooldown's end on went to c until one failed, and Y never probed c at all.
 */
async function untilProbed(y: Replica, posts: () => number, before: number): Promise<void> {
  await until(
    async () => {
      expect(await ask(y)).toBe("d/claude-d");
      return posts() > before || (await downProbes(y)) > 0;
    },
    COOLDOWN_MS + 20_000,
    () => `${y.name} to probe c`,
  );
  expect(posts()).toBe(before);
  await untilLogged(y, "probe: instance c is down");
}

test("a cooldown heard from a replica that then died is probed here before any user request reaches the down instance", async () => {
  const { urls, posts, stop } = instances();
  try {
    const redis = await startRedis();
    servers.push(redis);
    const [x, y] = await Promise.all([replica("X", redis.url, urls), replica("Y", redis.url, urls)]);
    // Through X, c fails once (its 503 cools it) and d answers.
    expect(await ask(x)).toBe("d/claude-d");
    expect(posts()).toBe(1);
    const end = await cUntil(x);
    expect(end).toBeGreaterThan(Date.now());
    await until(async () => (await cUntil(y)) === end, 2000, () => "Y to hear of X's cooldown");
    await killAll(x, x.proc);

    // Y's users go on asking: none of their requests may reach c, and Y probes c itself.
    await untilProbed(y, posts, 1);
    // c stays out on Y after its failed probe.
    for (let i = 0; i < 5; i++) expect(await ask(y)).toBe("d/claude-d");
    expect(posts()).toBe(1);
  } finally {
    for (const r of replicas) await killAll(r, r.proc);
    await stop();
  }
}, 120_000);

test("a cooldown a late Redis connect brings (set by a replica gone meanwhile) is probed before any user request reaches the down instance", async () => {
  const { urls, posts, stop } = instances();
  try {
    // What a replica left in Redis before it went: c cooling. Saved, so Redis comes back with it.
    const redis = await redisOnFreePort();
    servers.push(redis);
    await redis.start();
    const now = Date.now();
    const look = await redis.client();
    await look.send("SET", ["gw-probe:cd:flaky\0c/claude-c", JSON.stringify({ until: now + 3000, kind: "transient_heavy", reason: "503 down", setAt: now }), "PX", "600000"]);
    await redis.save();
    await redis.kill();
    // Y starts without Redis, serving from local state; then Redis comes, and Y reads c's cooldown.
    const y = await replica("Y2", redis.url, urls);
    await redis.start();
    // Read once connected; on a loaded machine Y may have probed c by the time we look (its failed
    // probe holds c out longer: a later end).
    await until(async () => ((await cUntil(y)) ?? 0) >= now + 3000, 15_000, () => "Y to connect and read c's cooldown");
    await untilProbed(y, posts, 0);
  } finally {
    for (const r of replicas) await killAll(r, r.proc);
    await stop();
  }
}, 120_000);

test("a probe that answered on one replica is not run again by another that lost its claim to it", async () => {
  // c fails one request (its 503 cools it), then serves again: the probe at the cooldown's end answers.
  let failing = true;
  const { urls, posts, probes, stop } = instances((req) => {
    if (req.method === "POST" && failing) return unavailable();
    return new URL(req.url).pathname === "/v1/models" ? Response.json({ data: [] }) : Response.json(answer);
  });
  try {
    const redis = await startRedis();
    servers.push(redis);
    const [x, y] = await Promise.all([replica("X3", redis.url, urls), replica("Y3", redis.url, urls)]);
    expect(await ask(x)).toBe("d/claude-d");
    failing = false;
    const end = await cUntil(x);
    await until(async () => (await cUntil(y)) === end, 2000, () => "Y to hear of X's cooldown");
    // X, which cooled c, probes it when the cooldown ends; Y lost the claim to X and asks again a
    // probe's timeout later: by then X's probe has answered and no request has taken the trial.
    // Before the claim said so, Y found it free then and probed c a second time.
    const answered = "probe: instance c answered another gw's probe";
    await until(() => timesLogged(y, answered) > 0 || probes() > 1, COOLDOWN_MS + 20_000, () => "Y to ask for the probe's claim again");
    expect(probes()).toBe(1);
    // The trial is a request's, on any replica: Y's next one takes it.
    await until(async () => (await ask(y)) === "c/claude-c", 5000, () => "a request through Y to be c's trial");
    expect(posts()).toBe(2);
  } finally {
    for (const r of replicas) await killAll(r, r.proc);
    await stop();
  }
}, 120_000);

afterAll(async () => {
  for (const r of servers) await r.stop();
});
