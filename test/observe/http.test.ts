import { CATALOG_SOURCE } from "../../src/catalog/models.ts";
import { afterAll, describe, expect, test } from "bun:test";
import { createObservability, handleObserve, isLoopback } from "../../src/observe/http.ts";
import { type LiveState, NO_LIVE_STATE } from "../../src/observe/metrics.ts";
import { buildStatus, type StatusJson } from "../../src/observe/status-api.ts";
import { configFrom } from "../helpers/lb.ts";
import { parseExposition, record, writeRecords } from "../helpers/observe.ts";
import { tempDir } from "../helpers/tmp.ts";

const TOML = `
[global]
host = "127.0.0.1"
main_port = 8145
admin_key = "adm-secret-123"

[instances.a]
url = "http://127.0.0.1:9"
api_key = "k"
providers = [{ type = "anthropic", api_keys = ["sk-a"] }]

[instances.b]
url = "http://127.0.0.1:10"
api_key = "k"
providers = [{ type = "anthropic", api_keys = ["sk-b"] }]

[routing]
"opus" = [{ instance = "a", model = "claude-opus", weight = 3, provider = "anthropic" }, { instance = "b", model = "claude-opus", weight = 1, provider = "anthropic" }]
"flash" = [{ instance = "b", model = "gemini-flash", provider = "anthropic" }]

[pricing]
"opus" = { input = 15, output = 75 }
`;

const config = configFrom(TOML);
const noAdmin = configFrom(TOML.replace('admin_key = "adm-secret-123"', ""));
let current = config;
const obs = createObservability(() => current);
const live: LiveState = {
  instances: [
    { name: "a", state: "ready", restarts: 1, uptimeMs: 90_000 },
    { name: "b", state: "crashloop", restarts: 7, uptimeMs: null },
  ],
  cooling: [{ route: "opus", target: "b/claude-opus", until: Date.now() + 60_000, kind: "transient_heavy", reason: "503 from upstream" }],
};
obs.setLive(() => live);

// The client address the server pretends to see: tests flip it to play a remote client.
let pretendIp: string | undefined;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: (req, srv) =>
    (pretendIp ? handleObserve(req, obs.context(pretendIp)) : obs.serve(req, srv)) ?? new Response("lb", { status: 299 }),
});
afterAll(() => server.stop(true));
const url = (p: string) => `${server.url.origin}${p}`;

describe("access rule", () => {
  test("a loopback client gets all three; other paths fall through to the LB", async () => {
    pretendIp = undefined;
    for (const p of ["/metrics", "/_gw/", "/_gw", "/_gw/api/status"]) expect((await fetch(url(p))).status).toBe(200);
    const other = await fetch(url("/v1/messages"), { method: "POST", body: "{}" });
    expect(other.status).toBe(299);
    expect(await other.text()).toBe("lb");
    expect((await fetch(url("/metricsx"))).status).toBe(299);
  });

  test("a remote client: 403 JSON without the admin key, 200 with it (Bearer, x-api-key, ?key=); the page (no data in it) loads without", async () => {
    pretendIp = "203.0.113.7";
    const denied = await fetch(url("/_gw/api/status"));
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { type: string } }).error.type).toBe("forbidden");
    expect((await fetch(url("/metrics"), { headers: { authorization: "Bearer wrong-key-1234" } })).status).toBe(403);
    expect((await fetch(url("/metrics"), { headers: { authorization: "Bearer adm-secret-123" } })).status).toBe(200);
    expect((await fetch(url("/_gw/api/status"), { headers: { "x-api-key": "adm-secret-123" } })).status).toBe(200);
    expect((await fetch(url("/_gw/api/status?key=adm-secret-123"))).status).toBe(200);
    expect((await fetch(url("/_gw/api/status?key=adm-secret-12"))).status).toBe(403);
    // The page is a fixed file that asks the API for all it shows: its key may stay in #key=, which is never sent.
    const page = await fetch(url("/_gw/"));
    expect(page.status).toBe(200);
    expect(await page.text()).not.toContain("claude-opus");
  });

  test("behind a reverse proxy on this machine (a loopback peer forwarding others' requests), the admin key is needed", async () => {
    pretendIp = undefined;
    const port = new URL(server.url).port;
    const proxied: Record<string, string>[] = [
      { "x-forwarded-for": "203.0.113.7" }, // nginx's proxy_set_header X-Forwarded-For, Caddy's default
      { forwarded: "for=203.0.113.7;proto=https" },
      { "x-real-ip": "203.0.113.7" },
      { host: "gw.example.com" }, // the public name, in allowed_hosts
    ];
    for (const headers of proxied) {
      const r = await fetch(url("/metrics"), { headers });
      expect([r.status, JSON.stringify(headers)]).toEqual([403, JSON.stringify(headers)]);
      expect(await r.text()).toContain("admin_key");
      expect((await fetch(url("/_gw/api/status"), { headers: { ...headers, "x-api-key": "adm-secret-123" } })).status).toBe(200);
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `gw.localhost:${port}`]) {
      expect([host, (await fetch(url("/metrics"), { headers: { host } })).status]).toEqual([host, 200]);
    }
  });

  test("with no admin_key set, remote clients are always refused", async () => {
    pretendIp = "203.0.113.7";
    current = noAdmin;
    try {
      expect((await fetch(url("/metrics"), { headers: { authorization: "Bearer adm-secret-123" } })).status).toBe(403);
      expect((await fetch(url("/metrics"), { headers: { authorization: "Bearer " } })).status).toBe(403);
    } finally {
      current = config;
    }
  });

  test("loopback forms", () => {
    expect(["127.0.0.1", "127.8.9.1", "::1", "::ffff:127.0.0.1"].every(isLoopback)).toBe(true);
    expect(["10.0.0.1", "::ffff:10.0.0.1", "", undefined, "fe80::1", "1.127.0.0"].some(isLoopback)).toBe(false);
  });
});

test("seedToday adds today's tokens logged before this process started, once", async () => {
  const dir = tempDir("gw-seed-");
  const o = createObservability(() => config);
  const before = new Date(o.startedAt - 1000).toISOString();
  const after = new Date(o.startedAt + 1000).toISOString();
  const yesterday = new Date(o.startedAt - 86_400_000).toISOString();
  writeRecords(dir, [
    record({ ts: before, route: "opus", attempts: ["a/claude-opus:200:ok"], usage: { input: 100, output: 10 } }),
    record({ ts: after, route: "opus", attempts: ["a/claude-opus:200:ok"], usage: { input: 1, output: 1 } }), // counted live instead
    record({ ts: yesterday, route: "opus", attempts: ["a/claude-opus:200:ok"], usage: { input: 5000 } }),
  ]);
  await o.seedToday(dir);
  const d = buildStatus({ config, live: NO_LIVE_STATE, metrics: o.metrics, feed: o.feed, startedAt: o.startedAt });
  expect(d.tokensToday.total).toMatchObject({ requests: 1, input: 100, output: 10 });
  expect(d.totals.requests).toBe(0); // seeding is tokens only: the request counters start at gw's start
});

test("seedToday lets the event loop run while it reads a large day file (a running gw answers meanwhile)", async () => {
  const dir = tempDir("gw-seed-");
  const o = createObservability(() => config);
  const before = new Date(o.startedAt - 1000).toISOString();
  // ~3 MB: several of the file stream's chunks (256-512 KB).
  writeRecords(dir, Array.from({ length: 6000 }, () => record({ ts: before, route: "opus", attempts: ["a/claude-opus:200:ok"], usage: { input: 1, output: 1 } })));
  let turns = 0;
  const seen: number[] = []; // the event loop's turns so far, at each record read
  const seed = o.feed.seedTokens.bind(o.feed);
  o.feed.seedTokens = (r) => (seen.push(turns), seed(r));
  const tick = setInterval(() => turns++, 0);
  try {
    await o.seedToday(dir);
  } finally {
    clearInterval(tick);
  }
  expect(seen.at(-1)! - seen[0]!).toBeGreaterThan(0); // none before: the whole file was read in one turn
  const d = buildStatus({ config, live: NO_LIVE_STATE, metrics: o.metrics, feed: o.feed, startedAt: o.startedAt });
  expect(d.tokensToday.total).toMatchObject({ requests: 6000, input: 6000, output: 6000 });
});

test("tokens today follow the wall clock stepping back a day (NTP correcting a clock that ran ahead)", () => {
  let clock = Date.parse("2026-12-02T08:00:00Z"); // gw started while the clock was a day ahead
  const o = createObservability(() => config, () => clock);
  const at = (iso: string) => ((clock = Date.parse(iso)), iso);
  o.record(record({ ts: at("2026-12-02T08:00:01Z"), route: "opus", attempts: ["a/claude-opus:200:ok"], usage: { input: 7 } }));
  at("2026-12-01T08:00:05Z"); // stepped back to the real date
  o.record(record({ ts: at("2026-12-01T08:00:06Z"), route: "opus", attempts: ["a/claude-opus:200:ok"], usage: { input: 100, output: 10 } }));
  const d = buildStatus({ config, live: NO_LIVE_STATE, metrics: o.metrics, feed: o.feed, startedAt: o.startedAt, now: clock });
  // Not an empty "today" until the clock reaches the 2nd again: the day the log file has it in.
  expect(d.tokensToday).toMatchObject({ day: "2026-12-01", total: { requests: 1, input: 100, output: 10 } });
  // A request begun before midnight and ended after it is counted for no day, as before.
  o.record(record({ ts: "2026-11-30T23:59:59Z", route: "opus", attempts: ["a/claude-opus:200:ok"], usage: { input: 5000 } }));
  expect(buildStatus({ config, live: NO_LIVE_STATE, metrics: o.metrics, feed: o.feed, startedAt: o.startedAt, now: clock }).tokensToday.total).toMatchObject({ requests: 1, input: 100 });
});

describe("data endpoint and metrics after traffic", () => {
  test("status JSON: instances, routes with weights and cooling, totals, series, errors, tokens today", async () => {
    pretendIp = undefined;
    const ts = new Date().toISOString();
    obs.record(record({ ts, route: "opus", attempts: ["a/claude-opus:200:ok"], ttfb: 120, usage: { input: 1_000_000, output: 10_000 } }));
    obs.record(record({ ts, route: "opus", attempts: ["b/claude-opus:503:transient", "a/claude-opus:200:ok"], ttfb: 300, usage: { input: 10, cache_read: 5 } }));
    obs.record(record({ ts, route: "flash", status: 429, attempts: ["b/gemini-flash:429:transient"], error: "rate limited" }));
    obs.metrics.streamOpened();
    try {
      const res = await fetch(url("/_gw/api/status"));
      expect(res.headers.get("cache-control")).toBe("no-store");
      const d = (await res.json()) as StatusJson;
      expect(d.totals).toEqual({ requests: 3, failed: 1, openStreams: 1, cooling: 1 });
      expect(d.instances.map((i) => [i.name, i.state, i.up, i.restarts, i.attempts, i.failed])).toEqual([
        ["a", "ready", true, 1, 2, 0],
        ["b", "crashloop", false, 7, 2, 2],
      ]);
      const opus = d.routes.find((r) => r.name === "opus")!;
      expect(opus.targets.map((t) => [t.id, t.weight, t.attempts, t.failed, t.cooling?.kind ?? null])).toEqual([
        ["a/claude-opus", 3, 2, 0, null],
        ["b/claude-opus", 1, 1, 1, "transient_heavy"],
      ]);
      expect(d.routes.map((r) => r.name)).toEqual(["opus", "flash"]);
      expect(d.series.points).toHaveLength(120);
      expect(d.series.points.reduce((a, p) => a + p.requests, 0)).toBe(3);
      expect(d.series.points.reduce((a, p) => a + p.errors, 0)).toBe(1);
      expect(d.errors).toEqual([{ ts, route: "flash", target: "b/gemini-flash", status: 429, attempts: 1, error: "rate limited" }]);
      expect(d.tokensToday.byRoute.opus).toMatchObject({ requests: 2, input: 1_000_010, output: 10_000, cacheRead: 5, unpriced: 1 });
      expect(d.tokensToday.total.costUsd).toBeCloseTo((1_000_010 * 15 + 10_000 * 75) / 1e6, 9);
      expect(d.tokensToday.total.cost).toBe("$15.75*"); // as gw usage writes it
      expect(d.tokensToday.priceSource).toBe(`[pricing] in providers.toml, else ${CATALOG_SOURCE}`);
    } finally {
      obs.metrics.streamClosed();
    }
  });

  test("/metrics reflects the same records and the live state", async () => {
    const res = await fetch(url("/metrics"));
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const { samples } = parseExposition(await res.text());
    expect(samples.get('gw_requests_total{route="opus",target="a/claude-opus",dialect="anthropic",status_class="2xx"}')).toBe(2);
    expect(samples.get('gw_requests_total{route="flash",target="b/gemini-flash",dialect="anthropic",status_class="4xx"}')).toBe(1);
    expect(samples.get('gw_failovers_total{route="opus"}')).toBe(1);
    expect(samples.get('gw_instance_restarts_total{instance_name="b"}')).toBe(7);
    expect(samples.get('gw_cooldowns_active{route="opus",target="b/claude-opus",kind="transient_heavy"}')).toBe(1);
  });

  test("the page is one self-contained HTML document that polls the data endpoint", async () => {
    const res = await fetch(url("/_gw/"));
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await res.text();
    expect(html).toStartWith("<!doctype html>");
    expect(html).toContain('"api/status"'); // beside the page: /_gw/api/status, or under a proxy's prefix
    expect(html).not.toContain('"/_gw/api/status"');
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//); // nothing loads from elsewhere
    expect(html).not.toMatch(/@import|url\(http/);
  });

  test("writes are refused; unknown /_gw paths are 404", async () => {
    expect((await fetch(url("/_gw/api/status"), { method: "POST" })).status).toBe(405);
    expect((await fetch(url("/_gw/nope"))).status).toBe(404);
  });
});
