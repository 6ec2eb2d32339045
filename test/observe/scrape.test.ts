// /metrics as an operator's Prometheus sees it: the real `promtool check metrics` lints the
// exposition of a gateway that served real traffic (a failover, a crafted model name with a quote,
// a backslash, a newline and a key in it), and a real Prometheus server scrapes it. What gw exports
// must arrive under the names gw gives it: Prometheus attaches `instance` and `job` to every
// series it scrapes, so a label of ours with such a name would arrive renamed `exported_instance`
// and no query written from /metrics would match.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import type { RunningGateway } from "../../src/lb/server.ts";
import { configFrom, externalInstances, startTestGateway } from "../helpers/lb.ts";
import { type MockServer, startMock } from "../helpers/mock.ts";
import { parseExposition } from "../helpers/observe.ts";
import { freePorts } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tmp.ts";

const KEY = "sk-ant-api03-scrapetestsecretvalue0123456789";
let mocks: MockServer[] = [];
let gw: RunningGateway;
let dir: string;

beforeAll(async () => {
  for (const cmd of ["promtool", "prometheus"]) {
    if (!Bun.which(cmd)) throw new Error(`${cmd} is missing: apt-get install -y prometheus (.ci/deps installs it)`);
  }
  dir = tempDir("gw-scrape-");
  mocks = ["a", "b"].map((name) => startMock({ name, apiKeys: [`key-${name}`] }));
  const crafted = JSON.stringify(`odd"model\\x\n${KEY}`);
  gw = startTestGateway(
    configFrom(
      `[global]\nmain_port = 8145\napi_keys = ["client"]\nadmin_key = "${KEY}"\nlb_max_json_depth = 8\n${externalInstances({ a: mocks[0]!.url, b: mocks[1]!.url })}\n[routing]\n` +
        `"opus" = [{ instance = "a", provider = "anthropic", model = "claude-opus-4-6~429", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-opus-4-6" }]\n` +
        `"odd" = [{ instance = "b", provider = "anthropic", model = ${crafted} }]\n`,
      join(dir, "providers.toml"),
    ),
  );
  // What gw up hands over (supervisor/live.ts): one instance ready, one crash-looping.
  gw.observe.setLive(() => ({ instances: [{ name: "a", state: "ready", restarts: 0, uptimeMs: 5_000 }, { name: "b", state: "crashloop", restarts: 4, uptimeMs: null }], cooling: [] }));
  const client = new Anthropic({ baseURL: gw.url, apiKey: "client", maxRetries: 0 });
  for (const model of ["opus", "odd", "unrouted-model"]) await client.messages.create({ model, max_tokens: 8, messages: [{ role: "user", content: "hi" }] });
});

afterAll(async () => {
  await gw?.stop(0);
  await Promise.all(mocks.map((m) => m.stop()));
});

test("promtool finds nothing to say about gw's exposition, crafted names and masked keys included", async () => {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  expect(text).toContain('target="b/odd\\"model\\\\x\\nsk-ant');
  expect(text).not.toContain(KEY);
  const lint = Bun.spawnSync(["promtool", "check", "metrics"], { stdin: new TextEncoder().encode(text) });
  expect({ code: lint.exitCode, out: `${lint.stdout}${lint.stderr}` }).toEqual({ code: 0, out: "" });
});

test("a real Prometheus scrapes every series under gw's own label names, and the counts agree with gw's", async () => {
  const [port] = await freePorts(1);
  const target = new URL(gw.url).host;
  const yml = join(dir, "prometheus.yml");
  await Bun.write(yml, `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: gw\n    static_configs:\n      - targets: ["${target}"]\n`);
  const prom = Bun.spawn(["prometheus", `--config.file=${yml}`, `--storage.tsdb.path=${join(dir, "tsdb")}`, `--web.listen-address=127.0.0.1:${port}`], { stdout: "ignore", stderr: "ignore" });
  try {
    const api = `http://127.0.0.1:${port}/api/v1`;
    const query = async (q: string) => {
      const r = await fetch(`${api}/query?query=${encodeURIComponent(q)}`).catch(() => undefined);
      const body = r?.ok ? ((await r.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }) : undefined;
      return body?.data.result ?? [];
    };
    let series: Awaited<ReturnType<typeof query>> = [];
    // Waits for Prometheus to start and scrape (an event we can only poll for, with a deadline).
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await Bun.sleep(200)) {
      series = await query('{__name__=~"gw_.+"}');
      if (series.some((s) => s.metric.__name__ === "gw_requests_total")) break;
    }
    const targets = (await (await fetch(`${api}/targets`)).json()) as { data: { activeTargets: { health: string; lastError: string }[] } };
    expect(targets.data.activeTargets.map((t) => [t.health, t.lastError])).toEqual([["up", ""]]);

    const labelNames = new Set(series.flatMap((s) => Object.keys(s.metric)));
    expect([...labelNames].filter((l) => l.startsWith("exported_"))).toEqual([]);
    // The queries an operator writes from what /metrics shows.
    expect((await query('gw_instance_up{instance_name="b"}')).map((s) => s.value[1])).toEqual(["0"]);
    expect((await query('gw_instance_restarts_total{instance_name="b"}')).map((s) => s.value[1])).toEqual(["4"]);
    expect((await query("gw_instance_up")).every((s) => s.metric.instance === target && s.metric.job === "gw")).toBe(true);
    const scraped = Number((await query("sum(gw_requests_total)"))[0]?.value[1]);
    expect(scraped).toBe(gw.stats().requests);
    expect(Number((await query('sum(gw_failovers_total{route="opus"})'))[0]?.value[1])).toBe(1);
    const exposed = parseExposition(await (await fetch(`${gw.url}/metrics`)).text()).samples;
    expect(exposed.get('gw_failovers_total{route="opus"}')).toBe(1);
  } finally {
    prom.kill();
    await prom.exited;
  }
}, 60_000);

test("requests gw refuses before any upstream (no record, no request counted) show in /metrics by status", async () => {
  const post = (path: string, headers: Record<string, string>, body = '{"model":"opus","max_tokens":8,"messages":[]}') =>
    fetch(`${gw.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body }).then((r) => r.status);
  const refusedNow = async () => {
    const samples = parseExposition(await (await fetch(`${gw.url}/metrics`)).text()).samples;
    return Object.fromEntries([...samples].filter(([k]) => k.startsWith("gw_refused_total{")).map(([k, v]) => [/status="(\d+)"/.exec(k)![1], v]));
  };
  const requestsBefore = gw.stats().requests;
  const before = await refusedNow();
  const statuses = [
    await post("/v1/messages", { "x-api-key": "wrong" }), // Claude Code with a stale key
    await post("/v1/messages", {}),
    await post("/v0/management/config", { "x-api-key": "client" }),
    await post("/v1/messages", { "x-api-key": "client" }, `{"model":"opus","messages":${"[".repeat(20)}${"]".repeat(20)}}`),
    await post("/v1/messages", { "x-api-key": "client", origin: "https://evil.example" }),
  ];
  expect(statuses).toEqual([401, 401, 403, 400, 403]);
  const after = await refusedNow();
  const added = (s: string) => (after[s] ?? 0) - (before[s] ?? 0);
  expect({ 401: added("401"), 403: added("403"), 400: added("400") }).toEqual({ 401: 2, 403: 2, 400: 1 });
  expect(gw.stats().requests).toBe(requestsBefore);
  // An OPTIONS gw answers itself (204) is no refusal.
  expect((await fetch(`${gw.url}/v1/messages`, { method: "OPTIONS" })).status).toBe(204);
  expect(await refusedNow()).toEqual(after);
});
