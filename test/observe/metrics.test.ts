import { describe, expect, test } from "bun:test";
import { createGwMetrics, DURATION_BUCKETS, statusClass } from "../../src/observe/metrics.ts";
import { Counter, Histogram, Registry } from "../../src/observe/prometheus.ts";
import { parseExposition, record } from "../helpers/observe.ts";

/** A scripted day: successes, a failover, a client error, a broken stream, an unrouted request. */
function scripted() {
  const m = createGwMetrics(() => 1_700_000_000_000);
  m.observe(record({ route: "opus", attempts: ["a/claude-opus:200:ok"], ttfb: 300, ms: 2_000, usage: { input: 10, output: 20, cache_read: 1000, cache_write: 5 } }));
  m.observe(record({ route: "opus", attempts: ["a/claude-opus:200:ok"], ttfb: 700, ms: 40_000, usage: { input: 1, output: 2 } }));
  m.observe(
    record({
      route: "opus",
      attempts: ["a/claude-opus:429:transient", "b/claude-opus:503:transient", "c/opus-alt:200:ok"],
      ttfb: 1500,
      ms: 3_000,
      cooldowns: [
        { route: "opus", target: "a/claude-opus", kind: "transient_heavy", ms: 60_000, reason: "429" },
        { route: "opus", target: "b/claude-opus", kind: "transient_heavy", ms: 60_000, reason: "503" },
      ],
      usage: { output: 7 },
    }),
  );
  m.observe(record({ route: "flash", dialect: "openai", status: 400, attempts: ["b/gemini-flash:400:client"], ms: 50 }));
  m.observe(record({ route: "flash", dialect: "openai", attempts: ["b/gemini-flash:200:ok"], ttfb: 90, ms: 9_000, broken: true }));
  m.observe(record({ dialect: "other", status: 502, attempts: ["default:a:0:other"], ms: 5 }));
  return m;
}

describe("gw metrics after a scripted set of requests", () => {
  const text = scripted().render({
    instances: [
      { name: "a", state: "ready", restarts: 2, uptimeMs: 65_500 },
      { name: "b", state: "backoff", restarts: 5, uptimeMs: null },
    ],
    cooling: [{ route: "opus", target: "a/claude-opus", until: 0, kind: "transient_heavy", reason: "429" }],
  });
  const { samples, types, helps } = parseExposition(text);
  const v = (s: string) => samples.get(s);

  test("requests by route, final target, dialect and status class", () => {
    expect(v('gw_requests_total{route="opus",target="a/claude-opus",dialect="anthropic",status_class="2xx"}')).toBe(2);
    expect(v('gw_requests_total{route="opus",target="c/opus-alt",dialect="anthropic",status_class="2xx"}')).toBe(1);
    expect(v('gw_requests_total{route="flash",target="b/gemini-flash",dialect="openai",status_class="4xx"}')).toBe(1);
    expect(v('gw_requests_total{route="flash",target="b/gemini-flash",dialect="openai",status_class="2xx"}')).toBe(1);
    expect(v('gw_requests_total{route="-",target="default:a",dialect="other",status_class="5xx"}')).toBe(1);
    const total = [...samples].filter(([k]) => k.startsWith("gw_requests_total{")).reduce((a, [, n]) => a + n, 0);
    expect(total).toBe(6);
  });

  test("attempts by outcome, failovers and cooldowns set", () => {
    expect(v('gw_attempts_total{route="opus",target="a/claude-opus",outcome="ok"}')).toBe(2);
    expect(v('gw_attempts_total{route="opus",target="a/claude-opus",outcome="transient"}')).toBe(1);
    expect(v('gw_attempts_total{route="opus",target="b/claude-opus",outcome="transient"}')).toBe(1);
    expect(v('gw_attempts_total{route="flash",target="b/gemini-flash",outcome="client"}')).toBe(1);
    expect(v('gw_failovers_total{route="opus"}')).toBe(2);
    expect(v('gw_failovers_total{route="flash"}')).toBeUndefined();
    expect(v('gw_cooldowns_total{route="opus",target="b/claude-opus",kind="transient_heavy"}')).toBe(1);
    expect(v('gw_streams_broken_total{route="flash"}')).toBe(1);
  });

  test("tokens by route and kind", () => {
    expect(v('gw_tokens_total{route="opus",kind="input"}')).toBe(11);
    expect(v('gw_tokens_total{route="opus",kind="output"}')).toBe(29);
    expect(v('gw_tokens_total{route="opus",kind="cache_read"}')).toBe(1000);
    expect(v('gw_tokens_total{route="opus",kind="cache_write"}')).toBe(5);
    expect(v('gw_tokens_total{route="flash",kind="input"}')).toBeUndefined();
  });

  test("histograms are cumulative, in seconds, with sum and count", () => {
    expect(types.get("gw_request_ttfb_seconds")).toBe("histogram");
    expect(v('gw_request_ttfb_seconds_bucket{route="opus",le="0.25"}')).toBe(0);
    expect(v('gw_request_ttfb_seconds_bucket{route="opus",le="0.5"}')).toBe(1);
    expect(v('gw_request_ttfb_seconds_bucket{route="opus",le="1"}')).toBe(2);
    expect(v('gw_request_ttfb_seconds_bucket{route="opus",le="2"}')).toBe(3);
    expect(v('gw_request_ttfb_seconds_bucket{route="opus",le="+Inf"}')).toBe(3);
    expect(v('gw_request_ttfb_seconds_count{route="opus"}')).toBe(3);
    expect(v('gw_request_ttfb_seconds_sum{route="opus"}')).toBeCloseTo(2.5, 9);
    expect(v('gw_request_ttfb_seconds_count{route="-"}')).toBeUndefined(); // no byte reached the client
    expect(v('gw_request_duration_seconds_bucket{route="opus",le="30"}')).toBe(2);
    expect(v('gw_request_duration_seconds_bucket{route="opus",le="60"}')).toBe(3);
    expect(v('gw_request_duration_seconds_count{route="-"}')).toBe(1);
  });

  test("live state: instances up, restarts, uptime, active cooldowns, open streams", () => {
    expect(v('gw_instance_up{instance_name="a"}')).toBe(1);
    expect(v('gw_instance_up{instance_name="b"}')).toBe(0);
    expect(v('gw_instance_state{instance_name="b",state="backoff"}')).toBe(1);
    expect(v('gw_instance_restarts_total{instance_name="b"}')).toBe(5);
    expect(v('gw_instance_uptime_seconds{instance_name="a"}')).toBe(65);
    expect(v('gw_instance_uptime_seconds{instance_name="b"}')).toBeUndefined();
    expect(v('gw_cooldowns_active{route="opus",target="a/claude-opus",kind="transient_heavy"}')).toBe(1);
    expect(v("gw_open_streams")).toBe(0);
    expect(v("gw_start_time_seconds")).toBe(1_700_000_000);
  });

  test("every family has HELP and TYPE; counters end in _total; base units", () => {
    for (const [name, type] of types) {
      expect(helps.has(name)).toBe(true);
      expect(name.startsWith("gw_")).toBe(true);
      if (type === "counter") expect(name.endsWith("_total")).toBe(true);
      if (type === "histogram") expect(name.endsWith("_seconds")).toBe(true);
    }
    expect(text.endsWith("\n")).toBe(true);
  });
});

test("open streams follow opened/closed and never go negative", () => {
  const m = createGwMetrics();
  m.streamOpened();
  m.streamOpened();
  m.streamClosed();
  expect(parseExposition(m.render()).samples.get("gw_open_streams")).toBe(1);
  m.streamClosed();
  m.streamClosed();
  expect(parseExposition(m.render()).samples.get("gw_open_streams")).toBe(0);
});

test("cooldowns and instances that ended disappear on the next scrape", () => {
  const m = createGwMetrics();
  const first = m.render({ instances: [{ name: "a", state: "ready", restarts: 0, uptimeMs: 1 }], cooling: [{ route: "r", target: "t", until: 1, kind: "auth", reason: "" }] });
  expect(first).toContain('gw_cooldowns_active{route="r",target="t",kind="auth"} 1');
  const second = m.render({ instances: [], cooling: [] });
  expect(second).not.toContain("gw_cooldowns_active{");
  expect(second).not.toContain('instance_name="a"');
  expect(second).toContain("# TYPE gw_cooldowns_active gauge");
  // Half-open (over, awaiting its trial): it keeps nothing out, so it is not counted.
  const halfOpen = m.render({ instances: [], cooling: [{ route: "r", target: "t", until: 1, kind: "signature", reason: "", halfOpen: true }] });
  expect(halfOpen).not.toContain("gw_cooldowns_active{");
});

test("gw_state_backend_up: 1 while the state backend answers, 0 while gw serves from memory alone", () => {
  const m = createGwMetrics();
  const where = { instances: [], cooling: [] };
  expect(m.render({ ...where, state: { backend: "redis", up: false, where: "redis://r:6379" } })).toContain('gw_state_backend_up{backend="redis"} 0');
  expect(m.render({ ...where, state: { backend: "local", up: true, where: "/x/.gw/state.db" } })).toContain('gw_state_backend_up{backend="local"} 1');
  expect(m.render(where)).not.toContain("gw_state_backend_up{");
});

test("label values and help text are escaped per the text format", () => {
  const reg = new Registry();
  const c = reg.add(new Counter("x_total", "a \\ help\nline", ["l"]));
  c.add(1, 'say "hi"\\\n');
  const h = reg.add(new Histogram("y_seconds", "h", [], [1]));
  h.observeAt(2);
  expect(reg.render()).toBe(
    [
      "# HELP x_total a \\\\ help\\nline",
      "# TYPE x_total counter",
      'x_total{l="say \\"hi\\"\\\\\\n"} 1',
      "# HELP y_seconds h",
      "# TYPE y_seconds histogram",
      'y_seconds_bucket{le="1"} 0',
      'y_seconds_bucket{le="+Inf"} 1',
      "y_seconds_sum 2",
      "y_seconds_count 1",
      "",
    ].join("\n"),
  );
});

test("a scrape masks each distinct label value once, however many series and buckets carry it", () => {
  // A script's config: 300 routes of 4 targets each, every one used.
  const m = createGwMetrics(() => 1_700_000_000_000);
  for (let r = 0; r < 300; r++) {
    for (let t = 0; t < 4; t++) m.observe(record({ route: `route-${r}`, attempts: [`i${t}/model-${r % 5}:200:ok`], ttfb: 100, ms: 900, usage: { input: 5, output: 5 } }));
  }
  const seen: string[] = [];
  const text = m.render(undefined, (v) => (seen.push(v), v.replace("route-7", "MASKED")));
  expect(seen.length).toBe(new Set(seen).size);
  // The masked value is what every series of that route shows, buckets included.
  const series = [...parseExposition(text).samples.keys()];
  expect(series.filter((k) => k.includes('route="route-7"'))).toEqual([]);
  expect(series.filter((k) => k.startsWith('gw_request_duration_seconds_bucket{route="MASKED",le='))).toHaveLength(DURATION_BUCKETS.length + 1);
  expect(series).toContain('gw_request_duration_seconds_count{route="MASKED"}');
});

test("status classes", () => {
  expect([200, 204, 302, 404, 499, 529, 0].map(statusClass)).toEqual(["2xx", "2xx", "3xx", "4xx", "4xx", "5xx", "other"]);
});

test("gw_instance_restarts_total never goes down when a reload replaces an instance or drops it and adds it back", () => {
  const m = createGwMetrics();
  const scrape = (restarts: number) =>
    parseExposition(m.render({ instances: [{ name: "beta", state: "ready", restarts, uptimeMs: 1 }], cooling: [] })).samples.get('gw_instance_restarts_total{instance_name="beta"}');
  expect(scrape(3)).toBe(3);
  expect(scrape(0)).toBe(3); // replaced: the supervisor's count starts again
  expect(scrape(2)).toBe(5);
  m.render({ instances: [], cooling: [] }); // dropped by a reload
  expect(scrape(2)).toBe(7); // added back: its count is all new
  expect(scrape(2)).toBe(7);
});
