// An upstream error that quotes the instance's key, in a Content-Encoding gw cannot decode strictly
// — longer than gw decodes (1 MiB), longer than it reads, gzip with bytes after it, gzip without
// its trailer — never reaches a client as the bytes that came: a client's own decoder would show
// the key gw could not mask. Each is asked by the official Anthropic SDK (on Bun's fetch, and on a
// fetch that decodes as Node's does: what Claude Code runs on) and by a raw fetch that decodes
// itself; none sees the key, nor do the request log, the gateway's log and the status page, which
// show text, not compressed bytes. A 200 that is only such an error object is an error: it fails
// over, or reaches the client as its error.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Transform } from "node:stream";
import * as zlib from "node:zlib";
import type { Gateway } from "../../src/lb/server.ts";
import { configFrom, startTestGateway, testUpstream, type TestUpstream } from "../helpers/lb.ts";
import { logRecords } from "../helpers/resilience.ts";

const KEY = "gw-instance-key-7f3a9c2e5b1d4f60";
const CLIENT_KEY = "client-key-abcdef0123456789";
const MiB = 1 << 20;
const ERROR = JSON.stringify({ type: "error", error: { type: "authentication_error", message: `Incorrect API key provided: ${KEY}` } });
const OK = JSON.stringify({ id: "msg_1", type: "message", role: "assistant", model: "good", content: [{ type: "text", text: "hello" }], stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: 3, output_tokens: 1 } });

const ENCODE: Record<string, (b: Buffer) => Buffer> = { gzip: zlib.gzipSync, br: zlib.brotliCompressSync, zstd: zlib.zstdCompressSync, deflate: zlib.deflateSync };
const gzip = (s: string) => zlib.gzipSync(Buffer.from(s));

interface Case {
  readonly status: number;
  readonly coding: string;
  readonly body: Uint8Array;
  readonly chunked?: boolean;
}

const CASES: Record<string, Case> = {};
for (const coding of Object.keys(ENCODE)) {
  for (const chunked of [false, true]) {
    // Spaces after the error: a few KiB compressed, over 2 MiB decoded.
    CASES[`${coding}, over 1 MiB decoded${chunked ? ", chunked" : ""}`] = { status: 401, coding, body: ENCODE[coding]!(Buffer.from(ERROR + " ".repeat(2 * MiB))), chunked };
  }
}
// Random text after it: over 1 MiB as sent, so gw reads only its first MiB.
CASES["gzip, over 1 MiB as sent"] = { status: 500, coding: "gzip", body: gzip(ERROR + randomBytes(2 * MiB).toString("base64")) };
CASES["gzip, gzip over 1 MiB decoded"] = { status: 401, coding: "gzip, gzip", body: zlib.gzipSync(gzip(ERROR + " ".repeat(2 * MiB))) };
CASES["gzip with 4 bytes after it"] = { status: 401, coding: "gzip", body: Buffer.concat([gzip(ERROR), Buffer.from("junk")]) };
CASES["gzip without its last 4 bytes"] = { status: 401, coding: "gzip", body: gzip(ERROR).subarray(0, -4) };
// A 200 that is only the error object, padded past 1 MiB decoded (a sized answer: judged whole).
CASES["a 200 of only an error object, over 1 MiB decoded"] = { status: 200, coding: "gzip", body: gzip(ERROR + " ".repeat(2 * MiB)) };

let up: TestUpstream, gw: Gateway;
const gwLog: string[] = [];
beforeAll(() => {
  up = testUpstream((req, seen) => {
    if ((JSON.parse(seen.body) as { model: string }).model === "good") return new Response(OK, { headers: { "content-type": "application/json" } });
    const c = CASES[req.headers.get("x-case") ?? ""]!;
    const headers = { "content-type": "application/json", "content-encoding": c.coding };
    if (!c.chunked) return new Response(c.body as Uint8Array<ArrayBuffer>, { status: c.status, headers });
    const body = new ReadableStream({
      start(ctrl) {
        for (let i = 0; i < c.body.byteLength; i += 1000) ctrl.enqueue(c.body.slice(i, i + 1000));
        ctrl.close();
      },
    });
    return new Response(body, { status: c.status, headers });
  });
  const line = (m: string) => void gwLog.push(m);
  gw = startTestGateway(
    configFrom(`
[global]
main_port = 8145
api_keys = ["${CLIENT_KEY}"]
# Every answer here is the upstream's: a cooled target would make the route out (own-error.ts).
lb_auth_cooldown_ms = 0
lb_transient_cooldown_ms = 0
lb_transient_heavy_cooldown_ms = 0
[instances.a]
url = "${up.url}"
api_key = "${KEY}"
providers = [{ type = "anthropic" }]
[routing]
"m" = [{ instance = "a", provider = "anthropic", model = "bad" }]
"pair" = [{ instance = "a", provider = "anthropic", model = "bad", priority = 1 }, { instance = "a", provider = "anthropic", model = "good" }]
`),
    { log: { info: line, warn: line } },
  );
});
afterAll(async () => {
  await gw.stop(0);
  await up.stop();
});

/** Decode as Node's fetch (undici) does: each coding by a zlib stream flushed at its end, what came before an error kept. */
async function nodeDecode(bytes: Uint8Array, contentEncoding: string | null): Promise<Uint8Array> {
  const make: Record<string, () => Transform> = {
    gzip: () => zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH }),
    deflate: () => zlib.createInflate({ finishFlush: zlib.constants.Z_SYNC_FLUSH }),
    br: () => zlib.createBrotliDecompress({ finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }),
    zstd: () => zlib.createZstdDecompress(),
  };
  const codings = (contentEncoding ?? "").split(",").map((s) => s.trim()).filter(Boolean).reverse();
  for (const c of codings) {
    const z = make[c]!();
    const out: Buffer[] = [];
    z.on("data", (d: Buffer) => out.push(d));
    await new Promise((resolve) => {
      z.on("end", resolve);
      z.on("error", resolve);
      z.end(bytes);
    });
    bytes = Buffer.concat(out);
  }
  return bytes;
}

/** A fetch that decodes as Node's does (the Anthropic SDK under Node: Claude Code). */
const nodeFetch = (async (url: string, init?: RequestInit) => {
  const res = await fetch(url, { ...init, decompress: false } as RequestInit);
  const body = await nodeDecode(new Uint8Array(await res.arrayBuffer()), res.headers.get("content-encoding"));
  const headers = new Headers(res.headers);
  headers.delete("content-encoding");
  headers.delete("content-length");
  return new Response(body as Uint8Array<ArrayBuffer>, { status: res.status, headers });
}) as typeof fetch;

const params = { max_tokens: 5, messages: [{ role: "user" as const, content: "hi" }] };
const sdk = (name: string, viaNode: boolean) => new Anthropic({ baseURL: gw.url, apiKey: CLIENT_KEY, maxRetries: 0, defaultHeaders: { "x-case": name }, ...(viaNode ? { fetch: nodeFetch } : {}) });
const raw = (name: string, model = "m") =>
  fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "x-api-key": CLIENT_KEY, "x-case": name, "anthropic-version": "2023-06-01" }, body: JSON.stringify({ model, ...params }), decompress: false } as RequestInit);

/** Everything gw wrote about its requests: the request log's files, its own log, the status page. */
async function written(): Promise<string> {
  const logs = join(dirname(gw.config().file), "logs", "requests");
  const files = readdirSync(logs).map((n) => readFileSync(join(logs, n), "utf8"));
  const status = await (await fetch(`${gw.url}/_gw/api/status`)).text();
  return [...files, gwLog.join("\n"), status].join("\n");
}

/** The SDK's error for a request, or its answer. */
const outcome = (client: Anthropic, model = "m") => client.messages.create({ model, ...params }).catch((e: unknown) => e);

/** What a client shows of an SDK call's outcome: its error's message, or the answer it resolved with. */
const shown = (o: unknown) => (o instanceof Error ? o.message : JSON.stringify(o));

for (const [name, c] of Object.entries(CASES)) {
  test(`${name}: no client, log or status page sees the key; the client gets an error in its dialect, as text`, async () => {
    const res = await raw(name);
    const got = new Uint8Array(await res.arrayBuffer());
    const text = new TextDecoder().decode(await nodeDecode(got, res.headers.get("content-encoding")));
    const viaBun = await outcome(sdk(name, false));
    const viaNode = await outcome(sdk(name, true));
    // (The start of each that shows it, for a failure's message: the key comes early.)
    expect([text, shown(viaBun), shown(viaNode)].filter((t) => t.includes(KEY)).map((t) => t.slice(0, 200))).toEqual([]);

    const status = c.status === 200 ? 401 : c.status; // a 200's error object stands for its status
    expect(res.status).toBe(status);
    expect(res.headers.get("content-encoding")).toBeNull();
    expect(Number(res.headers.get("content-length"))).toBe(got.byteLength);
    const body = JSON.parse(text) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe("error");
    expect(body.error.type).toBe(status === 500 ? "api_error" : "authentication_error");
    expect(body.error.message).toContain("Incorrect API key provided: gw-ins…4f60");
    for (const err of [viaBun, viaNode]) {
      expect(err).toBeInstanceOf(Anthropic.APIError);
      expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(status);
      expect(shown(err)).toContain("Incorrect API key provided: gw-ins…4f60");
    }

    const id = res.headers.get("x-gw-request-id");
    const [record] = await logRecords(dirname(gw.config().file), 1, (r) => r.id === id);
    expect(record!.response.error).toContain("Incorrect API key provided: gw-ins…4f60");
    const all = await written();
    expect(all).not.toContain(KEY);
    expect(all).not.toContain("\ufffd"); // text, never compressed bytes read as text
  });
}

test("a 200 that is only an error object, compressed past 1 MiB decoded, fails over to the next target", async () => {
  const name = "a 200 of only an error object, over 1 MiB decoded";
  const before = up.seen.length;
  for (const viaNode of [false, true]) {
    const answer = await outcome(sdk(name, viaNode), "pair");
    expect(answer).toMatchObject({ content: [{ type: "text", text: "hello" }] });
  }
  const models = up.seen.slice(before).map((s) => (JSON.parse(s.body) as { model: string }).model);
  expect(models).toEqual(["bad", "good", "bad", "good"]);
});
