// Issue 12 item 9: an upstream error reaches the client without the secrets it quotes — in its
// body (plain or compressed) and its headers — and without cookies; an error that quotes
// nothing passes as the exact bytes, compressed as it came.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Gateway } from "../../src/lb/server.ts";
import { maskSecret } from "../../src/observe/mask.ts";
import { configFrom, startTestGateway, testUpstream, type TestUpstream } from "../helpers/lb.ts";
import { logRecords } from "../helpers/resilience.ts";

const PROVIDER_KEY = "sk-ant-api03-PROVIDERkey0123456789abcdefghij";
const INSTANCE_KEY = "gw-instance-key-7f3a9c2e5b1d4f60";
const CLIENT_KEY = "client-key-abcdef0123456789";
const OAUTH = "ya29.a0AfH6SMBcdefghijklmnopqrstuv";
// Credentials of shapes gw cannot recognize, known only from the config: a route's extra header
// and a relay key in a provider's base_url.
const HEADER_TOKEN = "relaytok-plain-5150-abcdefgh";
const QUERY_KEY = "qkey-0123456789-relay";

const quoting = JSON.stringify({ type: "error", error: { type: "authentication_error", message: `invalid x-api-key ${PROVIDER_KEY} (instance ${INSTANCE_KEY}, client ${CLIENT_KEY}, token ${OAUTH}, relay token ${HEADER_TOKEN}, url https://relay.example/v1?key=${QUERY_KEY})` } });
const plain = JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: "slow down" } });

const OPENING = `event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"usage":{"input_tokens":1,"output_tokens":0}}}\n\n`;

const DELTA = `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}\n\n`;
// Content that shows a key-shaped example (a model writing code): content is never masked.
const EXAMPLE_DELTA = `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"export ANTHROPIC_API_KEY=sk-ant-api03-EXAMPLEexample0123456789abcdefgh"}}\n\n`;
// A whole answer ends so (a stream that closes before its end is a break: stream.ts).
const STOP = `event: message_stop\ndata: {"type":"message_stop"}\n\n`;

let up: TestUpstream, gw: Gateway;
beforeAll(() => {
  up = testUpstream((req) => {
    const kind = req.headers.get("x-test-kind");
    const headers: Record<string, string> = { "content-type": "application/json", "set-cookie": `sid=${INSTANCE_KEY}`, "x-debug": `used ${PROVIDER_KEY}`, "www-authenticate": `Bearer error="invalid_token", key="${INSTANCE_KEY}"`, "x-plain": "nothing here" };
    if (kind === "gzip") return new Response(Bun.gzipSync(quoting), { status: 401, headers: { ...headers, "content-encoding": "gzip" } });
    if (kind === "plain-gzip") return new Response(Bun.gzipSync(plain), { status: 400, headers: { "content-type": "application/json", "content-encoding": "gzip" } });
    if (kind === "plain") return new Response(plain, { status: 400, headers: { "content-type": "application/json" } });
    // Answers that are not error statuses but echo the key they were sent.
    const echo = { "x-echo-auth": req.headers.get("authorization") ?? "", "x-debug": `used ${PROVIDER_KEY}`, "x-plain": "nothing here", [`x-${INSTANCE_KEY.toLowerCase()}`]: "1" };
    // What CLIProxyAPI passes on from Anthropic with passthrough-headers (gw writes it: src/instances/yaml.ts).
    const passed = { "anthropic-organization-id": "4f0c9a8e-org", "openai-organization": "org-team", "openai-project": "proj_1", "chatgpt-account-id": "acct-1", "request-id": "req_011", "anthropic-ratelimit-requests-remaining": "49", "anthropic-ratelimit-requests-reset": "2026-12-01T09:00:20Z", "anthropic-ratelimit-unified-status": "allowed_warning", "anthropic-ratelimit-unified-5h-utilization": "0.93" };
    if (kind === "passthrough") return Response.json({ id: "msg_1", type: "message", role: "assistant", content: [{ type: "text", text: "hi" }], usage: { input_tokens: 1, output_tokens: 1 } }, { headers: passed });
    if (kind === "passthrough-sse") return new Response(`${OPENING}${DELTA}${STOP}`, { headers: { ...passed, "content-type": "text/event-stream" } });
    if (kind === "ok-echo") return Response.json({ id: "msg_1", type: "message", role: "assistant", content: [{ type: "text", text: "hi" }], usage: { input_tokens: 1, output_tokens: 1 } }, { headers: echo });
    if (kind === "sse-error") return new Response(`${OPENING}event: error\ndata: ${quoting}\n\n`, { headers: { ...echo, "content-type": "text/event-stream" } });
    if (kind === "sse-late-error") return new Response(`${OPENING}${DELTA}event: error\ndata: ${quoting}\n\n`, { headers: { "content-type": "text/event-stream" } });
    if (kind === "sse-example-key") return new Response(`${OPENING}${EXAMPLE_DELTA}${STOP}`, { headers: { "content-type": "text/event-stream" } });
    if (kind === "sse-plain-error") return new Response(`${OPENING}event: error\ndata: ${plain}\n\n`, { headers: { "content-type": "text/event-stream" } });
    return new Response(quoting, { status: 401, headers });
  });
  gw = startTestGateway(configFrom(`
[global]
main_port = 8145
api_keys = ["${CLIENT_KEY}"]
# Every answer here is the upstream's: a target cooled by the last test would make the route out
# (own-error.ts) and the next answer gw's own.
lb_auth_cooldown_ms = 0
lb_transient_heavy_cooldown_ms = 0
[instances.a]
url = "${up.url}"
api_key = "${INSTANCE_KEY}"
providers = [{ type = "anthropic", base_url = "https://relay.example/v1?key=${QUERY_KEY}", api_keys = ["${PROVIDER_KEY}"] }]
[routing]
"m" = [{ instance = "a", provider = "anthropic", model = "up", params = { extra_headers = { "X-Relay-Token" = "${HEADER_TOKEN}" } } }]
`));
});
afterAll(async () => {
  await gw.stop(0);
  await up.stop();
});

const ask = (kind: string, stream = false) =>
  fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "x-api-key": CLIENT_KEY, "x-test-kind": kind, "anthropic-version": "2023-06-01" }, body: `{"model":"m","max_tokens":5,"stream":${stream},"messages":[]}`, decompress: false } as RequestInit);
const headerText = (res: Response) => [...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n");

const SECRETS = [PROVIDER_KEY, INSTANCE_KEY, CLIENT_KEY, OAUTH, HEADER_TOKEN, QUERY_KEY];
const clean = (text: string) => SECRETS.filter((s) => text.includes(s));

test("body and headers of an error that quotes secrets are masked; no cookie passes", async () => {
  const res = await ask("json");
  expect(res.status).toBe(401);
  const text = await res.text();
  expect(clean(text)).toEqual([]);
  const body = JSON.parse(text) as { error: { type: string; message: string } };
  expect(body.error.type).toBe("authentication_error"); // still the upstream's error, in its shape
  expect(body.error.message).toContain(maskSecret(PROVIDER_KEY));
  expect(clean(headerText(res))).toEqual([]);
  expect(res.headers.get("set-cookie")).toBeNull();
  expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
  expect(res.headers.get("x-plain")).toBe("nothing here");
});

test("a compressed error that quotes secrets goes out decoded and masked, without Content-Encoding", async () => {
  const res = await ask("gzip");
  expect(res.status).toBe(401);
  expect(res.headers.get("content-encoding")).toBeNull();
  const text = await res.text();
  expect(clean(text)).toEqual([]);
  expect(JSON.parse(text).error.message).toContain("invalid x-api-key");
});

test("errors that quote nothing pass as the exact bytes, compressed or not", async () => {
  const gz = await ask("plain-gzip");
  expect(gz.headers.get("content-encoding")).toBe("gzip");
  expect(new Uint8Array(await gz.arrayBuffer())).toEqual(Bun.gzipSync(plain));
  const raw = await ask("plain");
  expect(await raw.text()).toBe(plain);
});

test("the request log counts the bytes the client got of each error: masked (plain or decoded), or exact (compressed as it came)", async () => {
  for (const kind of ["json", "gzip", "plain", "plain-gzip"]) {
    const res = await ask(kind);
    const got = new Uint8Array(await res.arrayBuffer());
    const id = res.headers.get("x-gw-request-id");
    const [r] = await logRecords(gw.config().dir, 1, (r) => r.id === id);
    expect([kind, r!.response.status, r!.response.bytes]).toEqual([kind, res.status, got.byteLength]);
    expect(got.byteLength).toBeGreaterThan(0);
  }
});

test("an SDK sees the same error class, with the masked message", async () => {
  const client = new Anthropic({ baseURL: gw.url, apiKey: CLIENT_KEY, maxRetries: 0, defaultHeaders: { "x-test-kind": "json" } });
  const err = await client.messages.create({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
  expect(clean(String((err as Error).message))).toEqual([]);
});

test("a successful answer that echoes the key it was sent in a header has it masked (a header named after it is dropped); other headers pass", async () => {
  const res = await ask("ok-echo");
  expect(res.status).toBe(200);
  expect(clean(headerText(res))).toEqual([]);
  expect(res.headers.get(`x-${INSTANCE_KEY.toLowerCase()}`)).toBeNull();
  expect(res.headers.get("x-echo-auth")).toBe(`Bearer ${maskSecret(INSTANCE_KEY).replace("…", "...")}`);
  expect(res.headers.get("x-plain")).toBe("nothing here");
  expect((await res.json()).content[0].text).toBe("hi");
});

test("headers CLIProxyAPI passes on that name the upstream account (or one subscription's usage) never reach gw's clients; the API's rate limits and request id do", async () => {
  for (const [kind, stream] of [["passthrough", false], ["passthrough-sse", true]] as const) {
    const res = await ask(kind, stream);
    expect(res.status).toBe(200);
    for (const name of ["anthropic-organization-id", "openai-organization", "openai-project", "chatgpt-account-id", "anthropic-ratelimit-unified-status", "anthropic-ratelimit-unified-5h-utilization"]) expect(res.headers.get(name)).toBeNull();
    expect(res.headers.get("anthropic-ratelimit-requests-remaining")).toBe("49");
    expect(res.headers.get("request-id")).toBe("req_011");
    expect(await res.text()).toMatch(stream ? /Hello/ : /"hi"/);
  }
});

test("an error event that opens a stream is an error: the client gets it masked, headers too", async () => {
  const res = await ask("sse-error", true);
  expect(res.status).toBe(200); // the upstream's 200 stream, delivered as the last attempt
  const text = await res.text();
  expect(text).toStartWith(OPENING);
  expect(text).toContain("event: error");
  expect(clean(text)).toEqual([]);
  expect(clean(headerText(res))).toEqual([]);
  const event = JSON.parse(text.split("data: ").at(-1)!) as { error: { type: string; message: string } };
  expect(event.error.type).toBe("authentication_error");
  expect(event.error.message).toContain(maskSecret(PROVIDER_KEY));
});

test("an opening error event that quotes nothing passes as the exact bytes", async () => {
  const res = await ask("sse-plain-error", true);
  expect(await res.text()).toBe(`${OPENING}event: error\ndata: ${plain}\n\n`);
});

test("an error event after content reaches the client masked; content that only looks like a key passes as it came", async () => {
  const res = await ask("sse-late-error", true);
  const text = await res.text();
  expect(text).toStartWith(`${OPENING}${DELTA}`);
  expect(clean(text)).toEqual([]);
  const event = JSON.parse(text.split("data: ").at(-1)!) as { error: { type: string; message: string } };
  expect(event.error.type).toBe("authentication_error");
  expect(event.error.message).toContain(maskSecret(INSTANCE_KEY));
  const example = await ask("sse-example-key", true);
  expect(await example.text()).toBe(`${OPENING}${EXAMPLE_DELTA}${STOP}`);
});
