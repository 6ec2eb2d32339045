// gw's own answers to bad input, in each client's dialect, and failover on dead instances.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { withInstanceKeys, writeInstanceFiles } from "../../src/instances/index.ts";
import type { Gateway } from "../../src/lb/server.ts";
import { configFrom, deadUrl, externalInstances, startTestGateway, testUpstream, type TestUpstream, waitFor } from "../helpers/lb.ts";
import { type MockServer, startMock } from "../helpers/mock.ts";
import { freePorts } from "../helpers/ports.ts";
import { logRecords } from "../helpers/resilience.ts";

let up: TestUpstream, hang: TestUpstream, limited: TestUpstream, outOfQuota: TestUpstream, relay: TestUpstream, gw: Gateway;

beforeAll(() => {
  up = testUpstream();
  limited = testUpstream(() => Response.json({ error: { type: "rate_limit_error", message: "Rate limited for user@example.com" } }, { status: 429, headers: { "retry-after": "30" } }));
  outOfQuota = testUpstream(() => Response.json({ error: { type: "insufficient_quota", message: "Insufficient quota: account user@example.com" } }, { status: 403 }));
  hang = testUpstream(() => new Promise<Response>(() => {})); // never answers
  // A relay whose path is wrong: its web server's own 404 page, passed on by the instance.
  relay = testUpstream(() => new Response("<html><h1>404 Not Found</h1><hr>nginx</html>", { status: 404, headers: { "content-type": "text/html" } }));
  gw = startTestGateway(configFrom(`
[global]
main_port = 8145
lb_max_body_mb = 1
lb_max_target_retries = 2
${externalInstances({ live: up.url, dead: deadUrl(), dead2: deadUrl(), hang: hang.url, limited: limited.url, quota: outOfQuota.url, relay: relay.url })}
[routing]
"m" = [{ instance = "live", provider = "anthropic", model = "m-up" }]
"flaky" = [
  { instance = "dead", provider = "anthropic", model = "x", priority = 2 },
  { instance = "dead2", provider = "anthropic", model = "y", priority = 1 },
  { instance = "live", provider = "anthropic", model = "z", priority = 0 },
]
"down" = [{ instance = "dead", provider = "anthropic", model = "x" }]
"slow" = [
  { instance = "hang", provider = "anthropic", model = "h", priority = 1, first_byte_timeout_ms = 300 },
  { instance = "live", provider = "anthropic", model = "fast" },
]
"stuck" = [{ instance = "hang", provider = "anthropic", model = "h", first_byte_timeout_ms = 300 }]
"spent" = [{ instance = "limited", provider = "anthropic", model = "l" }, { instance = "quota", provider = "anthropic", model = "q" }]
"gone" = [{ instance = "quota", provider = "anthropic", model = "q2" }]
"relayed" = [{ instance = "relay", provider = "anthropic", model = "r" }]
`));
});
afterAll(async () => {
  await gw.stop(0);
  await up.stop();
  await hang.stop();
  await limited.stop();
  await outOfQuota.stop();
  await relay.stop();
});

const PATHS = { anthropic: "/v1/messages", openai: "/v1/chat/completions", gemini: "/v1beta/models/m:generateContent" } as const;

function expectDialect(dialect: keyof typeof PATHS, body: any, status: number) {
  if (dialect === "anthropic") expect(body).toEqual({ type: "error", error: { type: expect.any(String), message: expect.any(String) } });
  if (dialect === "openai") expect(body).toEqual({ error: { message: expect.any(String), type: expect.any(String), code: expect.any(String) } });
  if (dialect === "gemini") expect(body).toEqual({ error: { code: status, message: expect.any(String), status: expect.any(String) } });
}

describe.each(Object.keys(PATHS) as (keyof typeof PATHS)[])("%s dialect", (dialect) => {
  const path = PATHS[dialect];
  test("malformed JSON → 400", async () => {
    const res = await fetch(gw.url + path, { method: "POST", headers: { "content-type": "application/json" }, body: '{"model": "m",' });
    expect(res.status).toBe(400);
    expectDialect(dialect, await res.json(), 400);
  });
  test("body over the limit → 413 (declared length)", async () => {
    const res = await fetch(gw.url + path, { method: "POST", body: JSON.stringify({ model: "m", pad: "x".repeat(1024 * 1024 + 10) }) });
    expect(res.status).toBe(413);
    expectDialect(dialect, await res.json(), 413);
  });
  test("body over the limit → 413 (chunked, no length)", async () => {
    const chunk = new Uint8Array(64 * 1024).fill(32);
    let sent = 0;
    const body = new ReadableStream({
      pull(c) {
        if (sent++ < 40) c.enqueue(chunk);
        else c.close();
      },
    });
    const res = await fetch(gw.url + path, { method: "POST", body, headers: { "content-type": "application/json" } });
    expect(res.status).toBe(413);
    expectDialect(dialect, await res.json(), 413);
  });
  test("wrong field types → 400", async () => {
    for (const bad of [{ model: 5 }, { model: "m", max_tokens: "many" }, { model: "m", thinking: "yes" }, [1, 2]]) {
      const res = await fetch(gw.url + path, { method: "POST", body: JSON.stringify(bad) });
      expect(res.status).toBe(400);
      expectDialect(dialect, await res.json(), 400);
    }
  });
});

describe("failover", () => {
  test("connection errors move on to the next untried target", async () => {
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "flaky" }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, model: "z" });
    expect(res.headers.get("x-gw-attempts")).toBe("3");
    expect(res.headers.get("x-gw-target")).toBe("live/z");
  });
  test("a first-byte timeout moves on too, and aborts the stalled attempt", async () => {
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "slow" }) });
    expect(await res.json()).toEqual({ ok: true, model: "fast" });
    expect(res.headers.get("x-gw-attempts")).toBe("2");
    await waitFor(() => hang.aborted.length > 0, 5000, "the stalled upstream request to be aborted");
  });
  test("only stalled targets → 504 in the client's dialect", async () => {
    const res = await fetch(`${gw.url}/v1beta/models/stuck:generateContent`, { method: "POST", body: "{}" });
    expect(res.status).toBe(504);
    expect(await res.json()).toEqual({ error: { code: 504, message: expect.stringContaining("300 ms"), status: "DEADLINE_EXCEEDED" } });
  });
  test("no reachable target → 502 in the client's dialect", async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model: "down" }) });
    expect(res.status).toBe(502);
    expect((await res.json()).error.code).toBe("upstream_unreachable");
    expect(gw.stats().byInstance.dead!.errors).toBeGreaterThan(0);
  });
});

describe("every target of a route out", () => {
  // The first request fails on both targets and cools them; the next ones find the route out.
  beforeAll(async () => {
    const first = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "spent" }) });
    expect(first.status).toBeOneOf([403, 429]); // the last upstream's own answer: both failed in this request
    await first.body?.cancel();
  });
  const says = (message: string) => {
    expect(message).toContain('route "spent": every target is out');
    expect(message).toMatch(/limited\/l rate limited or overloaded, cooling until \d\d:\d\d:\d\d UTC \(in \d+ s\)/);
    expect(message).toMatch(/quota\/q out of quota, cooling until \d\d:\d\d:\d\d UTC \(in \d+ s\)/);
    expect(message).not.toContain("example.com"); // the upstreams' words may name accounts
    // The last answer in the upstream's own words (its message as written), not the classifier's
    // lower-cased run of message, code and type.
    expect(message).toMatch(/; the last try answered (429 Rate limited for|403 Insufficient quota: account) \*\*\*@\*\*\*$/);
  };
  test("Anthropic SDK: 503 (its retries honour Retry-After) naming the route, each target's reason and end", async () => {
    const client = new Anthropic({ baseURL: gw.url, apiKey: "k", maxRetries: 0 });
    const err = (await client.messages.create({ model: "spent", max_tokens: 5, messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect(err.status).toBe(503);
    says((err.error as { error: { message: string } }).error.message); // its err.message is "503 " + the body
    // The soonest return: the 429's Retry-After of 30 s, less what a loaded machine took since.
    const after = Number(err.headers?.get("retry-after"));
    expect(after).toBeGreaterThan(0);
    expect(after).toBeLessThanOrEqual(30);
  });
  test("OpenAI SDK and Gemini's shape: the same words", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "k", maxRetries: 0 });
    const err = (await client.chat.completions.create({ model: "spent", messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(503);
    says(err.message);
    const res = await fetch(`${gw.url}/v1beta/models/spent:generateContent`, { method: "POST", body: "{}" });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = await res.json();
    expectDialect("gemini", body, 503);
    says(body.error.message);
  });
});

describe("a route out for longer than a client's retries can wait", () => {
  // Out of quota: 12 h (lb_quota_cooldown_ms). Retrying in 60 s cannot help; a client that does
  // (Claude Code: 10 tries, Retry-After honoured up to 60 s each) shows a spinner for 10 minutes.
  beforeAll(async () => {
    const first = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "gone" }) });
    expect(first.status).toBe(403);
    await first.body?.cancel();
  });
  test("x-should-retry: false, so the SDKs give the error at once instead of sleeping Retry-After", async () => {
    const before = outOfQuota.seen.length;
    const client = new Anthropic({ baseURL: gw.url, apiKey: "k" }); // maxRetries: the default (2)
    const err = (await client.messages.create({ model: "gone", max_tokens: 5, messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(err.status).toBe(503);
    expect(err.headers?.get("x-should-retry")).toBe("false");
    // No Retry-After: Codex reads no x-should-retry and slept a Retry-After of 60 s before each of its 30 tries.
    expect(err.headers?.get("retry-after")).toBeNull();
    expect((err.error as { error: { message: string } }).error.message).toMatch(/the first is back in 4\d{4} s/);
    expect(outOfQuota.seen.length - before).toBe(1); // one request, no retries
  });
  test("a route back within a minute keeps the SDKs' retries", async () => {
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "spent" }) });
    expect(res.status).toBe(503);
    expect(res.headers.get("x-should-retry")).toBeNull();
    await res.body?.cancel();
  });
});

describe("a route whose one target CLIProxyAPI cools for 20 s", () => {
  // Its Claude handler keeps only the message of its model_cooldown 429 ("All credentials for model
  // … are cooling down"): reset_seconds is dropped, and Retry-After is sent only with
  // passthrough-headers. gw must still learn the 20 s — not cool for lb_transient_heavy_cooldown_ms
  // (120 s) and tell Claude Code "back in 120 s" with no retry. The instance reads the YAML gw
  // writes for it, as CLIProxyAPI would.
  let cpa: MockServer, short: Gateway;
  beforeAll(async () => {
    const [port] = await freePorts(1);
    const config = await withInstanceKeys(
      configFrom(`
[global]
main_port = 8145
[instances.cpa]
port = ${port}
providers = [{ type = "anthropic", api_keys = ["sk-cpa"] }]
[routing]
"short" = [{ instance = "cpa", provider = "anthropic", model = "claude-x~429=20" }]
`),
    );
    const [yaml] = await writeInstanceFiles(config);
    cpa = startMock({ config: yaml! });
    short = startTestGateway(config);
  });
  afterAll(async () => {
    await short.stop(0);
    await cpa.stop();
  });

  test("the target cools ~20 s, and gw's answer while it does says Retry-After ~20 (so the SDKs and Claude Code retry)", async () => {
    const client = new Anthropic({ baseURL: short.url, apiKey: "k", maxRetries: 0 });
    const ask = async () => (await client.messages.create({ model: "short", max_tokens: 5, messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    const first = await ask();
    expect(first.status).toBe(429); // the instance's own answer, passed on
    expect(Number(first.headers?.get("retry-after"))).toBe(20);
    const out = await ask();
    expect(out.status).toBe(503);
    const after = Number(out.headers?.get("retry-after"));
    expect(after).toBeGreaterThan(10); // less what a loaded machine took since the first answer
    expect(after).toBeLessThanOrEqual(20);
    expect((out.error as { error: { message: string } }).error.message).toMatch(/the first is back in (1\d|20) s/);
  });
});

test("a 404 that is not the instance router's own words passes as the upstream sent it, not as 'gw serves no POST /v1/chat/completions'", async () => {
  const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model: "relayed", messages: [] }) });
  expect(res.status).toBe(404);
  const text = await res.text();
  expect(text).toContain("nginx");
  expect(text).not.toContain("gw serves no");
});

test("the request log counts the bytes of each error answer the client got: gw's own (504, 502) and an upstream's passed on (404)", async () => {
  const cases = [
    [`/v1beta/models/stuck:generateContent`, "{}", 504],
    ["/v1/chat/completions", JSON.stringify({ model: "down" }), 502],
    ["/v1/chat/completions", JSON.stringify({ model: "relayed", messages: [] }), 404],
  ] as const;
  for (const [path, body, status] of cases) {
    const res = await fetch(`${gw.url}${path}`, { method: "POST", body });
    const got = new Uint8Array(await res.arrayBuffer());
    expect(res.status).toBe(status);
    const id = res.headers.get("x-gw-request-id");
    const [r] = await logRecords(gw.config().dir, 1, (r) => r.id === id);
    expect([status, r!.response.status, r!.response.bytes]).toEqual([status, status, got.byteLength]);
    expect(got.byteLength).toBeGreaterThan(0);
  }
});
