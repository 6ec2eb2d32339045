// gw on a team server behind a real nginx terminating TLS: what README's snippet promises holds
// (streams pass as they come, long conversations fit, the status page and /metrics need
// admin_key), and a bare `proxy_pass` — nginx's defaults: response buffering on — still passes
// a stream as it comes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunningGateway } from "../../src/lb/server.ts";
import type { RequestRecord } from "../../src/observe/record.ts";
import { configFrom, externalInstances, startTestGateway, testUpstream, type TestUpstream, waitFor } from "../helpers/lb.ts";
import { startNginx, type TestNginx } from "../helpers/nginx.ts";
import { readRequestLog } from "../helpers/resilience.ts";

const enc = new TextEncoder();
const CLIENT_KEY = "team-alice-0123456789abcdef";
const ADMIN_KEY = "team-admin-0123456789abcdef";
const insecure = { tls: { rejectUnauthorized: false } };
/** Releases the rest of the "gated" stream. */
let release: () => void = () => {};

let up: TestUpstream, gw: RunningGateway;
/** gw's own log lines (probes, refusals). */
const gwLog: string[] = [];

beforeAll(() => {
  up = testUpstream((_req, seen) => {
    const body = JSON.parse(seen.body) as { stream?: boolean; model: string };
    if (!body.stream) return Response.json({ id: "msg_1", type: "message", role: "assistant", model: body.model, content: [{ type: "text", text: "ok" }], usage: { input_tokens: 1, output_tokens: 1 } });
    const stream = new ReadableStream<Uint8Array>({
      async start(c) {
        const event = (name: string, data: object) => c.enqueue(enc.encode(`event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`));
        event("message_start", { message: { id: "msg_1", type: "message", role: "assistant", model: body.model, content: [], usage: { input_tokens: 1, output_tokens: 0 } } });
        event("content_block_start", { index: 0, content_block: { type: "text", text: "" } });
        event("content_block_delta", { index: 0, delta: { type: "text_delta", text: "first-words" } });
        // The model thinks on: the client must see the first words now, not when it is done.
        await new Promise<void>((r) => (release = r));
        event("content_block_stop", { index: 0 });
        event("message_delta", { delta: { stop_reason: "end_turn" }, usage: { output_tokens: 2 } });
        event("message_stop", {});
        c.close();
      },
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
  });
  const config = configFrom(`
[global]
api_keys = ["${CLIENT_KEY}"]
admin_key = "${ADMIN_KEY}"
allowed_hosts = ["gw.test"]
${externalInstances({ a: up.url })}
[routing]
"opus" = [{ instance = "a", provider = "anthropic", model = "claude-opus-4-6" }]
`);
  gw = startTestGateway(config, { log: { info: () => {}, warn: (l) => gwLog.push(l) } });
});

afterAll(async () => {
  release();
  await gw.stop(0);
  await up.stop();
});

/** POST a streamed request through `base` and resolve once the first words have arrived (or fail at the deadline). */
async function firstWordsArrive(base: string, headers: Record<string, string> = {}): Promise<void> {
  let got = "";
  let done = false;
  // nginx that buffers holds the answer's head back too: the deadline covers the whole wait.
  const reading = (async () => {
    const res = await fetch(`${base}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": CLIENT_KEY, "content-type": "application/json", ...headers },
      body: JSON.stringify({ model: "opus", stream: true, max_tokens: 64, messages: [{ role: "user", content: "hi" }] }),
      ...insecure,
    });
    expect(res.status).toBe(200);
    const decoder = new TextDecoder();
    for await (const chunk of res.body!) got += decoder.decode(chunk, { stream: true });
    done = true;
  })();
  try {
    await waitFor(() => got.includes("first-words"), 8_000, "the first words of the stream to pass nginx while the model is still answering");
    expect(done).toBe(false);
  } finally {
    release();
    await reading;
  }
  expect(got).toContain("message_stop");
}

/** The nginx block README.md gives for one gw behind a TLS proxy, made runnable here. */
function readmeSnippet(gwPort: number): string {
  const readme = readFileSync(join(import.meta.dir, "../../README.md"), "utf8");
  const block = /```nginx\n(server \{\n\s+listen 443 ssl;[\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error("README.md has no nginx block starting with `server {` / `listen 443 ssl;`");
  return block
    .replace("listen 443 ssl;", "listen 127.0.0.1:{{PORT}} ssl;")
    .replace(/ssl_certificate\s+\S+;/, "ssl_certificate {{CERT}};")
    .replace(/ssl_certificate_key\s+\S+;/, "ssl_certificate_key {{KEY}};")
    .replace("server_name gw.example.com;", "server_name gw.test;")
    .replaceAll("127.0.0.1:8145", `127.0.0.1:${gwPort}`);
}

describe("behind nginx with nothing but proxy_pass (its response buffering on)", () => {
  let nginx: TestNginx;
  beforeAll(async () => {
    nginx = await startNginx(`server { listen 127.0.0.1:{{PORT}} ssl; ssl_certificate {{CERT}}; ssl_certificate_key {{KEY}}; location / { proxy_pass http://127.0.0.1:${gw.port}; } }`, { tls: true });
  });
  afterAll(() => nginx.stop());

  test("a stream's first words reach the client while the model is still answering (gw says X-Accel-Buffering: no)", async () => {
    await firstWordsArrive(nginx.url);
  });
});

describe("behind nginx configured as README says", () => {
  let nginx: TestNginx;
  beforeAll(async () => {
    nginx = await startNginx(readmeSnippet(gw.port), { tls: true });
  });
  afterAll(() => nginx.stop());

  test("streams pass as they come, under the public name gw.test (in allowed_hosts)", async () => {
    await firstWordsArrive(nginx.url, { host: "gw.test" });
  });

  test("a long conversation (a 3 MB body) reaches gw, not nginx's 1 MB default limit", async () => {
    const res = await fetch(`${nginx.url}/v1/messages`, {
      method: "POST",
      headers: { host: "gw.test", authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "opus", max_tokens: 64, messages: [{ role: "user", content: "x".repeat(3_000_000) }] }),
      ...insecure,
    });
    expect([res.status, res.status === 200 ? "" : await res.text()]).toEqual([200, ""]);
    expect(res.headers.get("x-gw-route")).toBe("opus");
  });

  test("the request log names the client machine nginx forwarded for, not nginx's loopback address nor what the client wrote itself", async () => {
    // curl from 127.0.0.5 (still this machine, but not the address nginx uses to reach gw), claiming another address.
    const curl = Bun.spawn(["curl", "-sk", "--interface", "127.0.0.5", "-o", "/dev/null", "-D", "-", "-H", "host: gw.test", "-H", `authorization: Bearer ${CLIENT_KEY}`, "-H", "x-forwarded-for: 203.0.113.9", "-H", "content-type: application/json",
      "-d", JSON.stringify({ model: "opus", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }), `${nginx.url}/v1/messages`], { stdout: "pipe", stderr: "pipe" });
    const head = await new Response(curl.stdout).text();
    expect([await curl.exited, head.split("\r\n")[0]]).toEqual([0, "HTTP/1.1 200 OK"]);
    const viaNginx = /x-gw-request-id: (\S+)/i.exec(head)![1]!;
    const direct = (await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "x-api-key": CLIENT_KEY, "content-type": "application/json" }, body: JSON.stringify({ model: "opus", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }) })).headers.get("x-gw-request-id")!;
    let byId = new Map<string, RequestRecord>();
    await waitFor(() => (byId = new Map(readRequestLog(gw.config().dir).map((r) => [r.id, r]))).has(viaNginx) && byId.has(direct), 10_000, "both records in the request log");
    expect([byId.get(viaNginx)!.client_ip, byId.get(direct)!.client_ip]).toEqual(["127.0.0.5", "127.0.0.1"]);
  });

  test("a machine sending a stale key is named in gw's log (by the address nginx forwarded for), once, not per request", async () => {
    const stale = "team-alice-OLD-0123456789abcdef";
    for (let i = 0; i < 3; i++) {
      const curl = Bun.spawn(["curl", "-sk", "--interface", "127.0.0.6", "-o", "/dev/null", "-w", "%{http_code}", "-H", "host: gw.test", "-H", `x-api-key: ${stale}`, `${nginx.url}/v1/messages`, "-d", "{}"], { stdout: "pipe", stderr: "pipe" });
      expect(await new Response(curl.stdout).text()).toBe("401");
    }
    expect(gwLog.filter((l) => l.includes("127.0.0.6"))).toEqual(["refused a request from 127.0.0.6 with a wrong client key (team-a…cdef)"]);
  });

  test("the status page and /metrics need admin_key, though nginx reaches gw over loopback", async () => {
    for (const path of ["/metrics", "/_gw/api/status"]) {
      const res = await fetch(`${nginx.url}${path}`, { headers: { host: "gw.test" }, ...insecure });
      expect([path, res.status]).toEqual([path, 403]);
      const admin = await fetch(`${nginx.url}${path}?key=${ADMIN_KEY}`, { headers: { host: "gw.test" }, ...insecure });
      expect([path, admin.status]).toEqual([path, 200]);
    }
    // The page holds no data (it asks /_gw/api/status, with the key, for all it shows): it loads without.
    const page = await fetch(`${nginx.url}/_gw/`, { headers: { host: "gw.test" }, ...insecure });
    expect(page.status).toBe(200);
    expect(await page.text()).not.toContain("opus");
    const res = await fetch(`${nginx.url}/v1/models`, { headers: { host: "gw.test" }, ...insecure });
    expect(res.status).toBe(401);
  });
});
