import { describe, expect, test } from "bun:test";
import { calcPrice } from "@pydantic/genai-prices";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CATALOG_SOURCE, lookupModel } from "../../src/catalog/models.ts";
import { parseRecord } from "../../src/observe/day-files.ts";
import { priceFor } from "../../src/observe/pricing.ts";
import { emptySums, parseSince, usageReport } from "../../src/observe/usage.ts";
import { compact, costText, usageCsv, usageJson, usageTable } from "../../src/observe/usage-format.ts";
import { record, writeRecords } from "../helpers/observe.ts";
import { runGw, tempDir } from "../helpers/tmp.ts";

const NOW = Date.parse("2026-11-26T12:00:00Z");
const DAY = 86_400_000;
const iso = (daysAgo: number, hour = 10) => new Date(NOW - daysAgo * DAY - (12 - hour) * 3_600_000).toISOString();

const pricing = {
  opus: { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 },
  "gemini-flash": { input: 0.3, output: 2.5 }, // upstream model price, no cache prices
};

/**
 * Generated log files with known sums: 30 days back, each day i has (i % 4) + 1 opus requests
 * (input 1000·(i+1), output 100, cache_read 10 000) and 2 flash requests (input 500, output 50);
 * every 5th day one flash request also reports cache_read 7 (unpriced: flash has no cache price).
 */
function generate(dir: string) {
  const records = [];
  for (let i = 0; i < 30; i++) {
    for (let k = 0; k < (i % 4) + 1; k++) {
      records.push(record({ ts: iso(i), route: "opus", attempts: ["a/claude-opus-4-6:200:ok"], client: "sk-aaa…1111", usage: { input: 1000 * (i + 1), output: 100, cache_read: 10_000 } }));
    }
    records.push(record({ ts: iso(i, 11), route: "flash", attempts: ["b/gemini-flash:503:transient", "a/gemini-flash:200:ok"], usage: { input: 500, output: 50 } }));
    records.push(record({ ts: iso(i, 11), route: "flash", attempts: ["b/gemini-flash:200:ok"], client: "sk-bbb…2222", usage: { input: 500, output: 50, ...(i % 5 === 0 ? { cache_read: 7 } : {}) } }));
  }
  writeRecords(dir, records);
  return records.length;
}

describe("usage report on generated log files", () => {
  const dir = tempDir("gw-usage-");
  const written = generate(dir);
  // Noise the reader must survive: an unreadable line, a torn last line, a file that is not a day file.
  appendFileSync(join(dir, `${iso(0).slice(0, 10)}.jsonl`), 'not json\n{"ts":"2026-11-26T11');
  writeFileSync(join(dir, "notes.txt"), "ignore me\n");

  // Sums over days 0..n-1, from the generator's rule.
  const opusDays = (n: number) => Array.from({ length: n }, (_, i) => ({ reqs: (i % 4) + 1, input: 1000 * (i + 1) }));
  const expectOpus = (n: number) => {
    const d = opusDays(n);
    const reqs = d.reduce((a, x) => a + x.reqs, 0);
    const input = d.reduce((a, x) => a + x.reqs * x.input, 0);
    return { reqs, input, output: 100 * reqs, cacheRead: 10_000 * reqs, cost: (input * 15 + 100 * reqs * 75 + 10_000 * reqs * 1.5) / 1e6 };
  };

  test("--since 7d --by route: exact sums and costs; unknown prices are counted, not guessed", async () => {
    const r = await usageReport({ dirs: [dir], pricing, sinceMs: parseSince("7d", NOW)!, by: "route" });
    expect(r.records).toBe(expectOpus(7).reqs + 14);
    expect(r.badLines).toBe(2);
    const opus = r.rows.find((x) => x.key === "opus")!;
    const e = expectOpus(7);
    expect(opus).toMatchObject({ requests: e.reqs, input: e.input, output: e.output, cacheRead: e.cacheRead, cacheWrite: 0, unpriced: 0 });
    expect(opus.costUsd).toBeCloseTo(e.cost, 9);
    const flash = r.rows.find((x) => x.key === "flash")!;
    // days 0 and 5 had the cache_read 7 request → 2 unpriced requests
    expect(flash).toMatchObject({ requests: 14, input: 7000, output: 700, cacheRead: 14, unpriced: 2 });
    expect(flash.costUsd).toBeCloseTo((12 * (500 * 0.3 + 50 * 2.5) + 2 * (500 * 0.3 + 50 * 2.5)) / 1e6, 12);
    expect(r.unpricedModels).toEqual(["gemini-flash"]); // the upstream model (the catalogue knows no "gemini-flash")
    expect(r.total.requests).toBe(e.reqs + 14);
    expect(r.rows[0]!.key).toBe("opus"); // most expensive first
  });

  test("progress hears every byte of the files it reads, of their total", async () => {
    const heard: [number, number][] = [];
    await usageReport({ dirs: [dir], pricing, sinceMs: parseSince("3d", NOW)!, by: "day", progress: (read, total) => heard.push([read, total]) });
    const days = ["2026-11-24", "2026-11-25", "2026-11-26"].map((d) => Bun.file(join(dir, `${d}.jsonl`)).size);
    const total = days.reduce((a, b) => a + b, 0);
    expect(heard.length).toBeGreaterThanOrEqual(3);
    expect(heard.every(([, t]) => t === total)).toBe(true);
    expect(heard.at(-1)![0]).toBe(total);
  });

  test("--by day covers whole UTC days, oldest first", async () => {
    const r = await usageReport({ dirs: [dir], pricing, sinceMs: parseSince("3d", NOW)!, by: "day" });
    expect(r.rows.map((x) => x.key)).toEqual(["2026-11-24", "2026-11-25", "2026-11-26"]);
    expect(r.rows.map((x) => x.requests)).toEqual([3 + 2, 2 + 2, 1 + 2]);
    expect(r.rows[2]!.input).toBe(1000 + 1000);
  });

  test("--by target and --by model use the attempt that answered; --by client the masked key", async () => {
    const t = await usageReport({ dirs: [dir], pricing, sinceMs: parseSince("30d", NOW)!, by: "target" });
    expect(t.records).toBe(written);
    expect(Object.fromEntries(t.rows.map((x) => [x.key, x.requests]))).toEqual({ "a/claude-opus-4-6": expectOpus(30).reqs, "a/gemini-flash": 30, "b/gemini-flash": 30 });
    // --by model: the upstream model that answered, whichever instance served it
    const m = await usageReport({ dirs: [dir], pricing, sinceMs: parseSince("30d", NOW)!, by: "model" });
    expect(Object.fromEntries(m.rows.map((x) => [x.key, x.requests]))).toEqual({ "claude-opus-4-6": expectOpus(30).reqs, "gemini-flash": 60 });
    expect(m.rows[0]!.costUsd).toBeCloseTo(expectOpus(30).cost, 9);
    const c = await usageReport({ dirs: [dir], pricing, sinceMs: parseSince("30d", NOW)!, by: "client" });
    expect(Object.fromEntries(c.rows.map((x) => [x.key, x.requests]))).toEqual({ "sk-aaa…1111": expectOpus(30).reqs, "sk-bbb…2222": 30, "-": 30 });
  });

  test("rolling hours and dates", () => {
    expect(parseSince("12h", NOW)).toBe(NOW - 12 * 3_600_000);
    expect(parseSince("1d", NOW)).toBe(Date.parse("2026-11-26T00:00:00Z"));
    expect(parseSince("2w", NOW)).toBe(Date.parse("2026-11-13T00:00:00Z"));
    expect(parseSince("2026-11-01", NOW)).toBe(Date.parse("2026-11-01T00:00:00Z"));
    for (const bad of ["0d", "7", "yesterday", "2026-13-45", "2026-02-30", "2026-04-31"]) expect(parseSince(bad, NOW)).toBeNull();
    expect(parseSince("2028-02-29", NOW)).toBe(Date.parse("2028-02-29T00:00:00Z"));
    // "all of it": a window reaching before 1970 starts there
    for (const all of ["300000000d", "99999999999h", "9999999999w"]) expect(parseSince(all, NOW)).toBe(0);
  });

  test("table, CSV and JSON agree on the totals", async () => {
    const r = await usageReport({ dirs: [dir], pricing, sinceMs: parseSince("7d", NOW)!, by: "route" });
    const table = usageTable(r);
    expect(table).toContain("with tokens no price covers; their models: gemini-flash");
    expect(table).toContain(`prices: [pricing] in providers.toml, else ${CATALOG_SOURCE}`);
    expect(table).toMatch(/^flash .*\$0\.00\d\d\*$/m); // $0.0039: small costs keep their digits
    const csv = usageCsv(r).split("\n");
    expect(csv[0]).toBe("route,requests,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,cost_usd,unpriced_requests,no_usage_requests,partial_output_requests");
    expect(csv.at(-1)!.split(",").slice(0, 3)).toEqual(["total", String(r.total.requests), String(r.total.input)]);
    const json = JSON.parse(usageJson(r));
    expect(json.total.total_tokens).toBe(r.total.input + r.total.output + r.total.cacheRead + r.total.cacheWrite);
    expect(json.rows.find((x: { key: string }) => x.key === "flash").unpriced_requests).toBe(2);
    expect(json.price_source).toContain(CATALOG_SOURCE);
  });

  test("cost text: digits that still say something, never $0.0000 for a priced request", () => {
    const sums = (costUsd: number, unpriced = 0) => ({ ...emptySums(), requests: 1, costUsd, unpriced });
    expect([1234.5, 12.344, 0.0421, 0.00314, 0.00006, 0.0000012, 0].map((c) => costText(sums(c)))).toEqual(["$1235", "$12.34", "$0.042", "$0.0031", "$0.0001", "<$0.0001", "$0.00"]);
    expect([costText(sums(0.5, 1)), costText(sums(0, 1))]).toEqual(["$0.500*", "unknown"]);
  });

  test("no log directory: an empty report, not an error", async () => {
    const r = await usageReport({ dirs: [join(dir, "missing")], pricing, sinceMs: 0, by: "day" });
    expect(r).toMatchObject({ records: 0, files: 0, rows: [] });
    expect(usageTable(r)).toContain("no requests since");
  });
});

describe("prices from the model catalogue, [pricing] overriding them", () => {
  const dir = tempDir("gw-usage-catalogue-");
  const ts = new Date(NOW - 3_600_000).toISOString();
  writeRecords(dir, [
    // Matched on the upstream model, thinking variant and CLIProxyAPI suffix included.
    record({ ts, route: "opus4.6", attempts: ["a/claude-opus-4-6-thinking:200:ok"], usage: { input: 1_000_000, output: 100_000, cache_read: 2_000_000, cache_write: 400_000 } }),
    record({ ts, route: "cheap", attempts: ["b/claude-sonnet-4-5:200:ok"], usage: { input: 1_000_000, output: 1_000_000 } }),
    record({ ts, route: "local", attempts: ["c/my-own-model:200:ok"], usage: { input: 10 } }),
  ]);
  const catalogue = lookupModel("claude-opus-4-6")!.price;

  test("no [pricing]: every kind of token priced as the catalogue says; unknown models named", async () => {
    const r = await usageReport({ dirs: [dir], pricing: {}, sinceMs: parseSince("1d", NOW)!, by: "route" });
    const opus = r.rows.find((x) => x.key === "opus4.6")!;
    const expected = (1e6 * catalogue.input! + 1e5 * catalogue.output! + 2e6 * catalogue.cacheRead! + 4e5 * catalogue.cacheWrite!) / 1e6;
    expect(opus.unpriced).toBe(0);
    expect(opus.costUsd).toBeCloseTo(expected, 9);
    expect(r.rows.find((x) => x.key === "local")!.unpriced).toBe(1);
    expect(r.unpricedModels).toEqual(["my-own-model"]);
  });

  test("[pricing] overrides field by field: a route's entry over the model's over the catalogue", async () => {
    const pricing = { "claude-sonnet-4-5": { input: 1 }, cheap: { output: 2 } };
    const r = await usageReport({ dirs: [dir], pricing, sinceMs: parseSince("1d", NOW)!, by: "route" });
    expect(r.rows.find((x) => x.key === "cheap")!.costUsd).toBeCloseTo(1 + 2, 9);
    expect(priceFor(pricing, "cheap", "claude-sonnet-4-5")).toMatchObject({ input: 1, output: 2, cacheRead: lookupModel("claude-sonnet-4-5")!.price.cacheRead });
    expect(priceFor({}, "x", "no-such-model")).toBeUndefined();
  });
});

test("a price the catalogue sets by the hour is the one of each request's time, whenever gw usage runs; [pricing] still wins", async () => {
  const dir = tempDir("gw-usage-timed-");
  const usage = { input: 1_000_000, output: 1_000_000 };
  writeRecords(dir, [
    record({ ts: "2026-11-25T07:33:00.000Z", route: "ds", attempts: ["a/deepseek-v4-pro:200:ok"], usage }), // peak hours
    record({ ts: "2026-11-26T11:00:00.000Z", route: "ds", attempts: ["a/deepseek-v4-pro:200:ok"], usage }),
  ]);
  const r = await usageReport({ dirs: [dir], pricing: {}, sinceMs: parseSince("3d", NOW)!, by: "day" });
  const [peak, offPeak] = r.rows.map((x) => x.costUsd);
  expect(offPeak).toBeGreaterThan(0);
  expect(peak).toBeCloseTo(2 * offPeak!, 9);
  const fixed = await usageReport({ dirs: [dir], pricing: { ds: { input: 1, output: 1 } }, sinceMs: parseSince("3d", NOW)!, by: "day" });
  expect(fixed.rows.map((x) => x.costUsd)).toEqual([2, 2]);
});

describe("long prompts and hour-long cache writes cost what the catalogue says", () => {
  const dir = tempDir("gw-usage-tiers-");
  const ts = new Date(NOW - 3_600_000).toISOString();
  // Gemini 3 Pro (as Antigravity names it) over 200k prompt tokens, cached ones included, and just at 200k.
  const long = { input: 150_000, cache_read: 60_000, output: 4_000 };
  const at = { input: 140_000, cache_read: 60_000, output: 4_000 };
  // A Claude Code turn writing its prompt to the 1h cache (Anthropic's cache_creation object).
  const hour = { input: 50, cache_read: 30_000, cache_write: 12_000, cache_write_1h: 10_000, output: 900 };
  writeRecords(dir, [
    record({ ts, route: "g3p", attempts: ["a/gemini-3-pro-high:200:ok"], usage: long }),
    record({ ts, route: "g3p-at", attempts: ["a/gemini-3-pro-high:200:ok"], usage: at }),
    record({ ts, route: "sonnet", attempts: ["b/claude-sonnet-4-5:200:ok"], usage: hour }),
    record({ ts, route: "opus", attempts: ["b/claude-opus-4-6-thinking:200:ok"], usage: hour }),
  ]);
  // genai-prices prices a usage itself: input_tokens there counts the cached tokens too.
  const oracle = (model: string, u: typeof long & { cache_write?: number; cache_write_1h?: number }) =>
    calcPrice(
      {
        input_tokens: u.input + u.cache_read + (u.cache_write ?? 0),
        cache_read_tokens: u.cache_read,
        cache_write_tokens: u.cache_write,
        cache_write_1h_tokens: u.cache_write_1h,
        output_tokens: u.output,
      },
      model,
    )!.total_price;

  test("the cost is what genai-prices itself computes for the same tokens", async () => {
    const r = await usageReport({ dirs: [dir], pricing: {}, sinceMs: parseSince("1d", NOW)!, by: "route" });
    const cost = (route: string) => r.rows.find((x) => x.key === route)!.costUsd;
    // Over the threshold: $4 / $0.40 / $18 per million, not the base $2 / $0.20 / $12.
    expect(cost("g3p")).toBeCloseTo((150_000 * 4 + 60_000 * 0.4 + 4_000 * 18) / 1e6, 9);
    expect(cost("g3p")).toBeCloseTo(oracle("gemini-3-pro-preview", long), 9);
    expect(cost("g3p-at")).toBeCloseTo((140_000 * 2 + 60_000 * 0.2 + 4_000 * 12) / 1e6, 9);
    expect(cost("g3p-at")).toBeCloseTo(oracle("gemini-3-pro-preview", at), 9);
    // 1h writes at 2× input ($6 for Sonnet 4.5, $10 for Opus 4.6), the 5-minute ones at 1.25×.
    expect(cost("sonnet")).toBeCloseTo((50 * 3 + 30_000 * 0.3 + 2_000 * 3.75 + 10_000 * 6 + 900 * 15) / 1e6, 9);
    expect(cost("sonnet")).toBeCloseTo(oracle("claude-sonnet-4-5", hour), 9);
    expect(cost("opus")).toBeCloseTo(oracle("claude-opus-4-6", hour), 9);
  });

  test("a [pricing] field is the user's flat price: no tier, and cache_write covers the 1h writes", async () => {
    const pricing = { g3p: { input: 1 }, sonnet: { cacheWrite: 1 } };
    const r = await usageReport({ dirs: [dir], pricing, sinceMs: parseSince("1d", NOW)!, by: "route" });
    const cost = (route: string) => r.rows.find((x) => x.key === route)!.costUsd;
    expect(cost("g3p")).toBeCloseTo((150_000 * 1 + 60_000 * 0.4 + 4_000 * 18) / 1e6, 9);
    expect(cost("sonnet")).toBeCloseTo((50 * 3 + 30_000 * 0.3 + 12_000 * 1 + 900 * 15) / 1e6, 9);
  });
});

test("lines that are JSON but not gw's records are skipped as unreadable; token counts that are not numbers count as none", async () => {
  const dir = tempDir("gw-usage-odd-");
  const ts = new Date(NOW - 3_600_000).toISOString();
  const good = record({ ts, route: "opus", attempts: ["a/claude-opus-4-6:200:ok"], usage: { input: 1_000, output: 10 } });
  const lines = [
    JSON.stringify(good),
    JSON.stringify({ ts, id: "x", routing: { route: "opus" }, response: { status: 200 }, usage: { input: 5 } }), // no attempts
    JSON.stringify({ ts, id: "y", routing: { route: "opus", attempts: [null] }, response: { status: 200 } }),
    JSON.stringify({ ...good, usage: { input: "100", output: null, cache_read: -3, cache_write: 2 } }),
    JSON.stringify({ ts, routing: null, response: {} }),
    "[1,2]",
    "null",
  ];
  writeFileSync(join(dir, `${ts.slice(0, 10)}.jsonl`), `${lines.join("\n")}\n`);
  const r = await usageReport({ dirs: [dir], pricing: {}, sinceMs: parseSince("1d", NOW)!, by: "model" });
  expect(r.badLines).toBe(4);
  expect(r.total).toMatchObject({ requests: 3, input: 1_000, output: 10, cacheRead: 0, cacheWrite: 2 });
  expect(r.rows.map((x) => x.key).sort()).toEqual(["-", "claude-opus-4-6"]);
});

test("parseRecord skips the request summary of the log's layout and reads any other layout whole", () => {
  const r = record({ ts: "2026-11-26T01:02:03.004Z", route: "opus", attempts: ["a/m:200:ok"], usage: { input: 3 }, client: "sk-x…1234" });
  r.request.headers = { "x-trick": ',"routing":{"route":"fake"}', routing: "{" };
  const fast = parseRecord(JSON.stringify(r))!;
  expect(fast.request).toBeUndefined();
  expect(fast).toMatchObject({ ts: r.ts, routing: { route: "opus" }, usage: { input: 3 }, client: "sk-x…1234" });
  const { ts, ...rest } = r;
  const reordered = parseRecord(JSON.stringify({ ...rest, ts }))!; // ts last: no shortcut
  expect(reordered).toMatchObject({ ts: r.ts, routing: { route: "opus" }, request: { model: "opus" } });
  for (const bad of ["", "{}", "[1]", '{"ts":"x"', '{"ts":1,"routing":{},"response":{}}']) expect(parseRecord(bad)).toBeNull();
});

test("the old lb.js's day files (same folder, same names) count: its requests, tokens in any dialect, routes, router hits", async () => {
  const dir = tempDir("gw-usage-old-");
  const day = iso(1).slice(0, 10);
  // Lines as the old generated lb.js wrote them (old-lb.md, "Logs"): the upstream's own `usage`.
  const old = (at: string, routing: object, status: number, usage: object | null) =>
    JSON.stringify({ timestamp: at, duration_ms: 900, request: { method: "POST", url: "/v1/messages", headers: { authorization: "Bearer...abcd" }, model: "x" }, routing, response: { status_code: status, body_length: 500, route_action: "success" }, usage });
  const lines = [
    old(iso(1, 9), { requested_model: "opus", resolved_model: "opus", target_instance: "a", rewritten_model: "claude-opus-4-6", provider: "anthropic" }, 200, { input_tokens: 1000, output_tokens: 200, cache_read_input_tokens: 500, cache_creation_input_tokens: 10 }),
    old(iso(1, 9), { requested_model: "g3f.auto", resolved_model: "opus", target_instance: "a", rewritten_model: "claude-opus-4-6", provider: "anthropic", auto_upgrade: { sourceModel: "g3f.auto", targetModel: "opus", reasons: ["messages_threshold"] } }, 200, { input_tokens: 100, output_tokens: 20 }),
    old(iso(1, 10), { requested_model: "cx", resolved_model: "cx", target_instance: "b", rewritten_model: "gpt-5.1-codex", provider: "codex" }, 200, { prompt_tokens: 3000, completion_tokens: 400, prompt_tokens_details: { cached_tokens: 1000 } }),
    old(iso(1, 10), { requested_model: "auto", resolved_model: "opus", target_instance: "a", rewritten_model: "claude-opus-4-6", model_router: { enabled: true, activated: true, decision: "category_hit_coding", requested_model: "auto", suggested_model: "opus", resolved_model: "opus", applied: true, hit_rule: { name: "cat_coding", match: "category", target_model: "opus" } } }, 200, { input_tokens: 10, output_tokens: 1 }),
    old(iso(1, 11), { requested_model: "mystery", resolved_model: "mystery", target_url: "http://127.0.0.1:8146", decision: "default_target" }, 404, null),
  ];
  writeFileSync(join(dir, `${day}.jsonl`), `${lines.join("\n")}\n`);
  writeRecords(dir, [record({ ts: iso(1, 12), route: "opus", attempts: ["a/claude-opus-4-6:200:ok"], usage: { input: 1, output: 1 } })]); // gw's own, appended the same day

  const since = parseSince("7d", NOW)!;
  const byRoute = await usageReport({ dirs: [dir], pricing, sinceMs: since, by: "route" });
  expect([byRoute.records, byRoute.badLines]).toEqual([6, 0]);
  expect(byRoute.total).toMatchObject({ requests: 6, input: 1000 + 100 + 2000 + 10 + 1, output: 200 + 20 + 400 + 1 + 1, cacheRead: 500 + 1000, cacheWrite: 10 });
  expect(Object.fromEntries(byRoute.rows.map((r) => [r.key, r.requests]))).toEqual({ opus: 4, cx: 1, "-": 1 });
  const byModel = await usageReport({ dirs: [dir], pricing, sinceMs: since, by: "target" });
  expect(byModel.rows.find((r) => r.key === "b/gpt-5.1-codex")).toMatchObject({ requests: 1, input: 2000, cacheRead: 1000 });
  expect(byModel.rows.find((r) => r.key === "b/gpt-5.1-codex")!.costUsd).toBeGreaterThan(0); // priced from the catalogue
  const byCategory = await usageReport({ dirs: [dir], pricing, sinceMs: since, by: "category" });
  expect(byCategory.rows.find((r) => r.key === "coding")).toMatchObject({ requests: 1, input: 10 });
  expect(usageTable(byRoute)).not.toContain("unreadable");
});

describe("gw usage (the command)", () => {
  const home = tempDir("gw-usage-cmd-");
  writeFileSync(
    join(home, "providers.toml"),
    `[instances.a]\nurl = "http://127.0.0.1:9"\napi_key = "k"\nproviders = [{ type = "anthropic", api_keys = ["sk-x"] }]\n\n` +
      `[routing]\n"opus" = [{ instance = "a", model = "claude-opus" }]\n\n[pricing]\n"opus" = { input = 15, output = 75 }\n`,
  );
  const now = new Date().toISOString();
  writeRecords(join(home, "logs", "requests"), [
    record({ ts: now, route: "opus", attempts: ["a/claude-opus:200:ok"], usage: { input: 1_000_000, output: 100_000 } }),
    record({ ts: now, route: "opus", attempts: ["a/claude-opus:200:ok"], usage: { input: 1_000_000, output: 100_000 } }),
  ]);

  test("--json --by route reads the logs beside providers.toml and prices them", async () => {
    const { stdout, stderr, code } = await runGw(["usage", "--by", "route", "--json"], { cwd: home });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const j = JSON.parse(stdout);
    expect(j.rows).toEqual([expect.objectContaining({ key: "opus", requests: 2, input_tokens: 2_000_000, output_tokens: 200_000, cost_usd: 45 })]);
  });

  test("--csv prints CSV; a bad --by is one clear line", async () => {
    const csv = await runGw(["usage", "--csv", "--since", "1d"], { cwd: home });
    expect(csv.code).toBe(0);
    expect(csv.stdout.split("\n")[1]).toBe(`${now.slice(0, 10)},2,2000000,200000,0,0,45.000000,0,0,0`);
    const bad = await runGw(["usage", "--by", "week"], { cwd: home });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("gw: --by week: unknown grouping");
  });
});

test("a route named in CJK (two columns a character) or with an emoji lines up with the others", async () => {
  const dir = tempDir("gw-usage-wide-");
  const ts = new Date().toISOString();
  writeRecords(dir, [
    record({ ts, route: "オーパス", attempts: ["a/claude-opus-4-6:200:ok"], usage: { input: 1200, output: 300 } }),
    record({ ts, route: "fast🚀", attempts: ["a/claude-haiku-4-5:200:ok"], usage: { input: 500, output: 50 } }),
    record({ ts, route: "opus", attempts: ["a/claude-opus-4-6:200:ok"], usage: { input: 12_000, output: 3000 } }),
  ]);
  const { stdout, code } = await runGw(["usage", dir, "--by", "route"]);
  expect(code).toBe(0);
  const table = stdout.split("\n").slice(0, 6);
  expect(table.map((l) => l.split(/\s+/)[0])).toEqual(["route", "opus", "オーパス", "fast🚀", expect.stringMatching(/^─+$/), "total"]);
  // every column but the first is aligned right: each line ends in the same column as the header
  expect(new Set(table.map((l) => Bun.stringWidth(l))).size).toBe(1);
  // and the first column is as wide as its widest name: オーパス, 8 columns
  expect(table[4]!.split("  ")[0]).toBe("─".repeat(8));
});

describe("gw usage over several hosts' logs", () => {
  // Two hosts' gw directories side by side (copied or mounted), each with its logs/requests/.
  const team = tempDir("gw-usage-team-");
  const now = new Date().toISOString();
  const hostLogs = (host: string) => join(team, host, "logs", "requests");
  writeRecords(hostLogs("host-1"), [record({ ts: now, route: "opus", attempts: ["a/claude-opus:200:ok"], usage: { input: 1_000_000, output: 100_000 } })]);
  writeRecords(hostLogs("host-2"), [
    record({ ts: now, route: "opus", attempts: ["b/claude-opus:200:ok"], usage: { input: 2_000_000, output: 0 } }),
    record({ ts: now, route: "flash", attempts: ["b/gemini-flash:200:ok"], usage: { input: 10, output: 1 } }),
  ]);
  const totals = (stdout: string) => JSON.parse(stdout) as { records: number; files: number; rows: { key: string; requests: number; input_tokens: number }[] };

  test("directories, gw directories and a quoted glob all total as one; no config needed", async () => {
    const byDirs = await runGw(["usage", "--json", "--by", "route", hostLogs("host-1"), join(team, "host-2")], { cwd: team });
    expect(byDirs.stderr).toBe("");
    expect(byDirs.code).toBe(0);
    expect(totals(byDirs.stdout)).toMatchObject({ records: 3, files: 2, rows: [{ key: "opus", requests: 2, input_tokens: 3_000_000 }, { key: "flash", requests: 1 }] });
    const byGlob = await runGw(["usage", "--json", "--by", "route", "host-*"], { cwd: team });
    expect(totals(byGlob.stdout)).toEqual(totals(byDirs.stdout));
    // The same directory twice (as itself and through a glob) counts once.
    const twice = await runGw(["usage", "--json", join(team, "host-1"), `${team}/host-1/logs/*`], { cwd: team });
    expect(totals(twice.stdout).records).toBe(1);
  });

  test("a providers.toml here with errors (no .env for its keys) leaves out its [pricing], said once: the logs named are read", async () => {
    const here = tempDir("gw-usage-broken-");
    writeFileSync(join(here, "providers.toml"), `[instances.a]\nport = 8146\nproviders = [{ type = "anthropic", api_keys = ["\${RELAY_KEY}"] }]\n[routing]\n"opus" = [{ instance = "a", model = "claude-opus" }]\n`);
    const r = await runGw(["usage", "--json", "--by", "route", hostLogs("host-1")], { cwd: here, env: { ...process.env, RELAY_KEY: "" } });
    expect(r.stderr).toBe(`gw: ${join(here, "providers.toml")} has errors, so its [pricing] is left out: costs are the catalogue's (gw check lists the errors)\n`);
    expect(r.code).toBe(0);
    expect(totals(r.stdout)).toMatchObject({ records: 1, rows: [{ key: "opus", requests: 1 }] });
  });

  test("this gw's own logs, its providers.toml with errors (gw init's keys not filled in yet): read all the same, [pricing] left out, said once", async () => {
    const here = tempDir("gw-usage-unfilled-");
    writeFileSync(join(here, "providers.toml"), `[instances.a]\nport = 8146\nproviders = [{ type = "anthropic", api_keys = ["\${RELAY_KEY}"] }]\n[routing]\n"opus" = [{ instance = "a", model = "claude-opus" }]\n`);
    writeRecords(join(here, "logs", "requests"), [record({ ts: now, route: "opus", attempts: ["a/claude-opus:200:ok"], usage: { input: 7, output: 1 } })]);
    const r = await runGw(["usage", "--json", "--by", "route"], { cwd: here, env: { ...process.env, RELAY_KEY: "" } });
    expect(r.stderr).toBe(`gw: ${join(here, "providers.toml")} has errors, so its [pricing] is left out: costs are the catalogue's (gw check lists the errors)\n`);
    expect(r.code).toBe(0);
    expect(totals(r.stdout)).toMatchObject({ records: 1, rows: [{ key: "opus", requests: 1, input_tokens: 7 }] });
  });

  test("the models no price covers are named up to 20 in the table, then counted; --json names them all", async () => {
    const dir = tempDir("gw-usage-many-");
    writeRecords(dir, Array.from({ length: 30 }, (_, i) => record({ ts: now, route: `r${i}`, attempts: [`a/no-such-model-${String(i).padStart(2, "0")}:200:ok`], usage: { input: 10, output: 1 } })));
    const table = await runGw(["usage", dir]);
    const line = table.stdout.split("\n").find((l) => l.startsWith("* cost leaves out"))!;
    expect(line).toEndWith("no-such-model-19 and 10 more (gw usage --json lists them all)");
    expect(JSON.parse((await runGw(["usage", "--json", dir])).stdout).unpriced_models).toHaveLength(30);
  });

  test("a directory or glob that names nothing is one line saying so", async () => {
    const r = await runGw(["usage", join(team, "host-3"), "nothing-*"], { cwd: team });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`gw: no log directory at ${join(team, "host-3")}, nothing-*`);
  });
});

test("--by client and --by route on a terminal: a client's escape sequences and line breaks are shown escaped, never sent", async () => {
  // A gw without api_keys records whatever key a client (or a web page's top-level navigation with
  // ?key=) presented, masked to its first 6 and last 4 characters: room for "ESC[8m" (hide what follows).
  const dir = tempDir("gw-usage-crafted-");
  const ts = new Date(NOW - 3_600_000).toISOString();
  writeRecords(dir, [
    record({ ts, route: "m\u001b]0;PWNED\u0007", client: "\u001b[8m…\u001b[2J", usage: { input: 10, output: 1 } }),
    record({ ts, route: "fake\ntotal  0", client: "sk-ok…1234", usage: { input: 10, output: 1 } }),
  ]);
  for (const by of ["client", "route", "model"] as const) {
    const table = usageTable(await usageReport({ dirs: [dir], pricing: {}, sinceMs: parseSince("1d", NOW)!, by }));
    expect(table).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(table.split("\n").filter((l) => l.startsWith("total"))).toHaveLength(1);
  }
  const byClient = usageTable(await usageReport({ dirs: [dir], pricing: {}, sinceMs: parseSince("1d", NOW)!, by: "client" }));
  expect(byClient).toContain("\\u001b[8m…\\u001b[2J");
  // CSV too: printed to a terminal as often as piped; and a cell a spreadsheet would run as a formula is text.
  writeRecords(dir, [record({ ts, route: "=HYPERLINK(\"http://x\",\"y\")", client: "a\rb", usage: { input: 1, output: 1 } })]);
  for (const by of ["client", "route"] as const) {
    const csv = usageCsv(await usageReport({ dirs: [dir], pricing: {}, sinceMs: parseSince("1d", NOW)!, by }));
    expect(csv).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(csv.split("\n").some((l) => /^[=+\-@]/.test(l) || l.startsWith('"=') || l.startsWith('"+'))).toBe(false);
  }
  const csvRoutes = usageCsv(await usageReport({ dirs: [dir], pricing: {}, sinceMs: parseSince("1d", NOW)!, by: "route" })).split("\n");
  expect(csvRoutes).toContain(`"'=HYPERLINK(""http://x"",""y"")",1,1,1,0,0,0.000000,1,0,0`);
});

test("token counts: exact below 10,000, then k, M, G — a unit only while it shows under 1000", () => {
  const cases: [number, string][] = [[9_999, "9999"], [10_000, "10.0k"], [999_949, "999.9k"], [999_950, "1.00M"], [999_999, "1.00M"], [1_234_567, "1.23M"], [999_994_999, "999.99M"], [999_995_000, "1.00G"], [2_500_000_000_000, "2500.00G"]];
  expect(cases.map(([n]) => [n, compact(n)])).toEqual(cases);
});
