// Every [global] setting the request path reads follows a reload (README "Reload": all but host,
// main_port and state, which reload.test.ts and exposure.test.ts cover with retention, grace and
// api_keys). Each case asks the running gateway the same question before and after one reload.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Gateway } from "../../src/lb/server.ts";
import { configFrom, externalInstances, startTestGateway, testUpstream, type TestUpstream } from "../helpers/lb.ts";
import { tempDir } from "../helpers/tmp.ts";

let a: TestUpstream, b: TestUpstream, gw: Gateway;
const file = join(tempDir("gw-reload-settings-"), "providers.toml");

beforeAll(() => {
  // An Anthropic answer with a million input tokens (priced by [pricing] "p" or not at all);
  // "slow" answers after 300 ms, "fail" with 503, "pause" streams with 300 ms of silence inside.
  const answer = (from: string) => async (_req: Request, seen: { body: string }) => {
    if (seen.body.includes('"slow"')) await Bun.sleep(300);
    if (seen.body.includes('"fail"')) return Response.json({ type: "error", error: { type: "api_error", message: "down" } }, { status: 503 });
    if (seen.body.includes('"pause"')) return new Response(pausedStream(), { headers: { "content-type": "text/event-stream" } });
    return Response.json({ id: "m", type: "message", role: "assistant", model: "x", content: [{ type: "text", text: from }], stop_reason: "end_turn", usage: { input_tokens: 1_000_000, output_tokens: 0 }, from });
  };
  a = testUpstream(answer("a"));
  b = testUpstream(answer("b"));
  gw = startTestGateway(configFrom(toml(), file));
});
afterAll(async () => {
  await gw.stop(0);
  await a.stop();
  await b.stop();
});

const event = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const delta = (text: string) => event("content_block_delta", { index: 0, delta: { type: "text_delta", text } });

function pausedStream(): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    async start(c) {
      c.enqueue(enc.encode(event("message_start", { message: { id: "m", type: "message", role: "assistant", content: [], model: "x", usage: { input_tokens: 1, output_tokens: 0 } } }) + event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }) + delta("one")));
      await Bun.sleep(300);
      c.enqueue(enc.encode(delta("two") + event("message_stop", {})));
      c.close();
    },
  });
}

/** The config with `global` lines in [global] and `tail` after the routes. */
function toml(global = "", tail = ""): string {
  return `
[global]
main_port = 8145
# Failed targets stay available: each ask meets the same targets.
lb_transient_cooldown_ms = 0
lb_transient_heavy_cooldown_ms = 0
${global}
${externalInstances({ a: a.url, b: b.url })}
[routing]
"p" = [{ instance = "a", provider = "anthropic", model = "my-own-unpriced-model" }]
"slow" = [{ instance = "a", provider = "anthropic", model = "slow" }]
"pause" = [{ instance = "a", provider = "anthropic", model = "pause" }]
"three" = [{ instance = "a", provider = "anthropic", model = "fail", priority = 2 }, { instance = "b", provider = "anthropic", model = "fail", priority = 1 }, { instance = "b", provider = "anthropic", model = "ok" }]
${tail}
`;
}

const post = (body: string, headers: Record<string, string> = {}) => fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
const status = async (res: Promise<Response>) => {
  const r = await res;
  await r.body?.cancel();
  return r.status;
};
const nested = (depth: number) => `{"model":"p","x":${"[".repeat(depth)}${"]".repeat(depth)}}`;
/** What today's input tokens on "p" cost on the status page, per million: every one of them priced as [pricing] says now. */
const priceToday = async () => {
  const p = ((await (await fetch(`${gw.url}/_gw/api/status`)).json()) as { tokensToday: { byRoute: Record<string, { costUsd: number; input: number }> } }).tokensToday.byRoute.p!;
  return (p.costUsd / p.input) * 1e6;
};

const CASES: { setting: string; global?: string; tail?: string; ask: () => Promise<unknown>; was: unknown; now: unknown }[] = [
  {
    setting: "default_instance", // the first instance, a, until it is set
    global: 'default_instance = "b"',
    ask: async () => ((await (await post('{"model":"no-route"}')).json()) as { from: string }).from,
    was: "a",
    now: "b",
  },
  { setting: "lb_max_body_mb", global: "lb_max_body_mb = 1", ask: () => status(post(`{"model":"p","pad":"${"x".repeat(1_200_000)}"}`)), was: 200, now: 413 },
  { setting: "lb_max_json_depth", global: "lb_max_json_depth = 8", ask: () => status(post(nested(12))), was: 200, now: 400 },
  { setting: "lb_max_json_elements", global: "lb_max_json_elements = 1000", ask: () => status(post(`{"model":"p","x":[${Array(1500).fill(1).join(",")}]}`)), was: 200, now: 413 },
  { setting: "lb_first_byte_timeout_ms", global: "lb_first_byte_timeout_ms = 100", ask: () => status(post('{"model":"slow"}')), was: 200, now: 504 },
  {
    setting: "lb_max_target_retries", // 1: two attempts, both failed
    global: "lb_max_target_retries = 2",
    ask: async () => {
      const r = await post('{"model":"three"}');
      await r.body?.cancel();
      return [r.status, r.headers.get("x-gw-attempts")];
    },
    was: [503, "2"],
    now: [200, "3"],
  },
  { setting: "lb_idle_timeout_ms", global: "lb_idle_timeout_ms = 100", ask: async () => (await (await post('{"model":"pause","stream":true}')).text()).includes('"two"'), was: true, now: false },
  {
    setting: "admin_key",
    global: 'admin_key = "admin-secret-0123456789"',
    // A reverse proxy on this machine passes a remote client on: the admin key opens /metrics to it.
    ask: () => status(fetch(`${gw.url}/metrics`, { headers: { "x-forwarded-for": "203.0.113.9", authorization: "Bearer admin-secret-0123456789" } })),
    was: 403,
    now: 200,
  },
  {
    setting: "cors_origins",
    global: 'cors_origins = ["https://app.example.com"]',
    ask: () => status(fetch(`${gw.url}/v1/messages`, { method: "OPTIONS", headers: { origin: "https://app.example.com", "access-control-request-method": "POST", "access-control-request-headers": "content-type" } })),
    was: 403,
    now: 204,
  },
  { setting: "allowed_hosts", global: 'allowed_hosts = ["gw.example.com"]', ask: () => status(post('{"model":"p"}', { host: "gw.example.com" })), was: 403, now: 200 },
  // The status page's cost today: every request of the day, those before the reload too, is priced by the table in force (as gw usage prices them).
  { setting: "[pricing]", tail: '[pricing]\n"p" = { input = 1 }', ask: async () => (await status(post('{"model":"p"}')), await priceToday()), was: 0, now: 1 },
];

test.each(CASES.map((c) => [c.setting, c] as const))("%s follows a reload", async (_name, c) => {
  gw.reload(configFrom(toml(), file));
  expect(await c.ask()).toEqual(c.was);
  expect(gw.reload(configFrom(toml(c.global, c.tail), file))).toEqual([]);
  expect(await c.ask()).toEqual(c.now);
});
