// Upstream headers too large for clients (header-bounds.ts): Node's HTTP parser refuses an answer
// whose headers pass 16 KiB, so one 20 KB header from a relay made the Anthropic SDK under node
// (what Claude Code runs on) fail with "Connection error." while gw logged a 200. gw passes on the
// headers that fit, those clients read first, and says so once in its log. Headers Bun's fetch
// will not read at all are a bad answer, said so: not "upstream unreachable".
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { RunningGateway } from "../../src/lb/server.ts";
import { configFrom, externalInstances, startTestGateway } from "../helpers/lb.ts";
import { httpAnswer, type RawRequest, rawUpstream, type RawUpstream } from "../helpers/raw-upstream.ts";

const CLIENT_KEY = "sk-gw-client-0b7e2d4c6a8f1e3d";
const SDK = join(import.meta.dir, "../../node_modules/@anthropic-ai/sdk/index.mjs");
const MESSAGE = JSON.stringify({ id: "msg_1", type: "message", role: "assistant", model: "x", content: [{ type: "text", text: "fine" }], stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } });
/** What a client reads, sent last: kept whatever comes before. */
const READ: [string, string][] = [["request-id", "req_011abc"], ["anthropic-ratelimit-requests-remaining", "49"], ["retry-after", "3"]];

/** Headers by the model asked for. */
const HEADERS: Record<string, () => [string, string][]> = {
  // One 20 KB header.
  big: () => [["x-big", "a".repeat(20_000)], ...READ],
  // Each small, together 22 KB.
  wide: () => [...Array.from({ length: 150 }, (_, i): [string, string] => [`x-wide-${i}`, "w".repeat(140)]), ...READ],
  // More than Bun's fetch reads: one of 20 MB, 5,000 small ones.
  huge: () => [["x-huge", "h".repeat(20 << 20)]],
  many: () => Array.from({ length: 5000 }, (_, i): [string, string] => [`x-h${i}`, "v".repeat(20)]),
};

let up: RawUpstream, gw: RunningGateway;
const warned: string[] = [];
beforeAll(async () => {
  up = await rawUpstream((req: RawRequest) => {
    const model = (JSON.parse(req.body || "{}") as { model?: string }).model ?? "";
    return httpAnswer("200 OK", [["content-type", "application/json"], ...(HEADERS[model]?.() ?? [])], MESSAGE);
  });
  gw = startTestGateway(
    configFrom(`
[global]
main_port = 8145
api_keys = ["${CLIENT_KEY}"]
lb_transient_cooldown_ms = 0
${externalInstances({ up: up.url })}
[routing]
${Object.keys(HEADERS).map((m) => `"${m}" = [{ instance = "up", provider = "anthropic", model = "${m}" }]`).join("\n")}
`),
    { log: { info() {}, warn: (m: string) => void warned.push(m) } },
  );
});
afterAll(async () => {
  await gw.stop(0);
  await up.stop();
});

/** One messages.create by the Anthropic SDK under node (its HTTP parser, as Claude Code's): the answer's text and headers, or the error. */
async function underNode(model: string): Promise<{ text?: string; headers?: Record<string, string>; error?: string }> {
  const script = `
    const { default: Anthropic } = await import(${JSON.stringify(SDK)});
    const client = new Anthropic({ apiKey: ${JSON.stringify(CLIENT_KEY)}, baseURL: ${JSON.stringify(gw.url)}, maxRetries: 0 });
    try {
      const { data, response } = await client.messages.create({ model: ${JSON.stringify(model)}, max_tokens: 5, messages: [{ role: "user", content: "hi" }] }).withResponse();
      console.log(JSON.stringify({ text: data.content[0].text, headers: Object.fromEntries(response.headers) }));
    } catch (e) {
      console.log(JSON.stringify({ error: String(e.message) }));
    }`;
  const proc = Bun.spawn([Bun.which("node")!, "--input-type=module", "-e", script], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  return JSON.parse(out) as { text?: string; headers?: Record<string, string> };
}

test("a 20 KB header, or 22 KB of small ones: the SDK under node gets the answer, with the headers it reads and gw's", async () => {
  for (const model of ["big", "wide"]) {
    const got = await underNode(model);
    expect({ model, error: got.error, text: got.text }).toEqual({ model, error: undefined, text: "fine" });
    const h = got.headers!;
    expect(h).toMatchObject({ "content-type": "application/json", "request-id": "req_011abc", "anthropic-ratelimit-requests-remaining": "49", "retry-after": "3", "x-gw-attempts": "1" });
    expect(h["x-big"]).toBeUndefined();
    expect(Object.entries(h).reduce((n, [k, v]) => n + k.length + v.length + 4, 0)).toBeLessThan(16 * 1024);
  }
  // As many of the small ones as fit: not all dropped for one too many.
  expect(Object.keys((await underNode("wide")).headers!).filter((k) => k.startsWith("x-wide-")).length).toBeGreaterThan(50);
});

test("gw.log says once which headers an instance's answers lost, not once per request", async () => {
  await underNode("big");
  const lines = warned.filter((l) => l.includes("headers too large"));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain('instance "up"');
  expect(lines[0]).toMatch(/x-big \(20\d{3} bytes\)|x-wide-/);
});

test("headers Bun's fetch will not read (20 MB, 5,000 of them) are a bad answer, not an unreachable upstream", async () => {
  for (const [model, said] of [["huge", "headers too large"], ["many", "malformed HTTP response"]] as const) {
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "x-api-key": CLIENT_KEY }, body: JSON.stringify({ model, max_tokens: 5, messages: [] }) });
    const body = (await res.json()) as { error: { message: string } };
    expect({ model, status: res.status }).toEqual({ model, status: 502 });
    expect(body.error.message).toContain(said);
    expect(body.error.message).not.toContain("unreachable");
  }
});
