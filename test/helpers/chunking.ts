// The chunking property tests' rig (test/lb/chunking*.test.ts): answers delivered through a real gw
// from an upstream that writes them in the pieces a test names, each piece a read of its own at gw
// (pieces-upstream.ts), and what the client and the request log got compared across chunkings.

import * as zlib from "node:zlib";
import type { RequestRecord } from "../../src/observe/record.ts";
import type { RequestLog } from "../../src/observe/requestlog.ts";
import { configFrom, startTestGateway, waitFor } from "./lb.ts";
import { PLAN_HEADER, type PlannedAnswer, piecesUpstream } from "./pieces-upstream.ts";

/** A provider key gw knows (from the config), not shaped like a token: only the known-secret masking can catch it. */
export const SECRET = "relay-secret-Q7hZ2xK9vLm4pW";

export type Dialect = "anthropic" | "openai" | "responses" | "gemini";
type Coding = "gzip" | "deflate" | "zstd" | "br";

export interface Answer {
  readonly name: string;
  readonly dialect: Dialect;
  readonly stream: boolean;
  readonly contentType: string;
  /** The body as the upstream means it (before its coding). */
  readonly text: string;
  readonly sized?: boolean;
  readonly coding?: Coding;
  /** The upstream's status (200 when absent). */
  readonly status?: number;
  /** An error before any content (after keep-alive spaces at most): the request must go to the second target. */
  readonly errorFirst?: boolean;
  /** Sent on a route with one target: an error before content reaches the client (masked). */
  readonly alone?: boolean;
  /** Every 2-way split, not only those in its interesting spans. */
  readonly everySplit?: boolean;
  /** Also sent one byte per piece. */
  readonly byteByByte?: boolean;
}

export type Ev = readonly [name: string | undefined, data: unknown];
export const sse = (events: readonly Ev[], eol = "\n", keepAlive = ""): string =>
  events.map(([name, data], i) => (i === 1 ? keepAlive : "") + (name ? `event: ${name}${eol}` : "") + `data: ${typeof data === "string" ? data : JSON.stringify(data)}${eol}${eol}`).join("");

export const SSE = "text/event-stream";
export const JSON_TYPE = "application/json";

const pathOf = (d: Dialect, stream: boolean, model: string): string =>
  d === "anthropic" ? "/v1/messages" : d === "openai" ? "/v1/chat/completions" : d === "responses" ? "/v1/responses" : `/v1beta/models/${model}:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The answer's bytes as the upstream sends them (in its coding). */
export function encoded(a: Answer): Uint8Array {
  const plain = enc.encode(a.text);
  if (a.coding === "gzip") return zlib.gzipSync(plain);
  if (a.coding === "deflate") return zlib.deflateSync(plain);
  if (a.coding === "zstd") return zlib.zstdCompressSync(plain);
  if (a.coding === "br") return zlib.brotliCompressSync(plain);
  return plain;
}

function cut(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const edges = [0, ...cuts, bytes.byteLength];
  return edges.slice(1).map((e, i) => bytes.subarray(edges[i]!, e));
}

export interface Seen {
  status: number;
  headers: string;
  body: Uint8Array;
  record: Pick<RequestRecord["response"], "status" | "broken" | "error"> & { usage?: RequestRecord["usage"]; attempts: string[] };
}

export interface ChunkingGateway {
  /** Deliver `a`, cut at `cuts`, through gw; what the client got and what the log says. */
  deliver(a: Answer, bytes: Uint8Array, cuts: readonly number[]): Promise<Seen>;
  stop(): Promise<void>;
}

/**
 * A gw with two targets for model "m" (the first one's key is SECRET, no cooldowns: every refusal
 * must find the first target again and fail over from it) and one for "solo". The second target
 * answers `fallback(a)` in one piece: what the first would have without its refusal.
 */
export function chunkingGateway(fallback: (a: Answer) => string): ChunkingGateway {
  const first = piecesUpstream();
  const second = piecesUpstream();
  const records = new Map<string, RequestRecord>();
  const requestLog: RequestLog = {
    write: (r) => void records.set(r.id, r),
    flush: async () => {},
    close: async () => {},
    sweep: async () => [],
    setRetentionDays: () => {},
    dropped: 0,
    problem: undefined,
  };
  const gw = startTestGateway(
    configFrom(`
[global]
main_port = 8145
lb_auth_cooldown_ms = 0
lb_validation_cooldown_ms = 0
lb_quota_cooldown_ms = 0
lb_transient_cooldown_ms = 0
lb_transient_heavy_cooldown_ms = 0
lb_signature_cooldown_ms = 0
[instances.a]
url = "${first.url}"
api_key = "key-instance-a-0001"
providers = [{ type = "anthropic", api_keys = ["${SECRET}"] }]
[instances.b]
url = "${second.url}"
api_key = "key-instance-b-0002"
providers = [{ type = "anthropic", api_keys = ["sk-other"] }]
[routing]
"m" = [{ instance = "a", provider = "anthropic", model = "m-a", priority = 2 }, { instance = "b", provider = "anthropic", model = "m-b", priority = 1 }]
"solo" = [{ instance = "a", provider = "anthropic", model = "m-a" }]
`),
    { requestLog },
  );
  let plans = 0;
  return {
    async deliver(a, bytes, cuts) {
      const id = `p${++plans}`;
      const headers = { "content-type": a.contentType, ...(a.coding ? { "content-encoding": a.coding } : {}) };
      const planned: PlannedAnswer = { status: a.status ?? 200, headers, pieces: cut(bytes, cuts), sized: a.sized };
      first.plan(id, planned);
      second.plan(id, { status: 200, headers: { "content-type": a.stream ? SSE : JSON_TYPE }, pieces: [enc.encode(fallback(a))] });
      try {
        const model = a.alone ? "solo" : "m";
        const body = a.dialect === "gemini" ? { contents: [{ role: "user", parts: [{ text: "hi" }] }] } : { model, stream: a.stream, max_tokens: 100, messages: [{ role: "user", content: "hi" }] };
        const res = await fetch(`${gw.url}${pathOf(a.dialect, a.stream, model)}`, { method: "POST", headers: { "content-type": "application/json", [PLAN_HEADER]: id }, body: JSON.stringify(body), decompress: false });
        const got = new Uint8Array(await res.arrayBuffer());
        const rid = res.headers.get("x-gw-request-id")!;
        await waitFor(() => records.has(rid), 5000, `the record of ${a.name}`);
        const r = records.get(rid)!;
        records.delete(rid);
        return {
          status: res.status,
          headers: `${res.headers.get("content-type")} ${res.headers.get("content-encoding")}`,
          body: got,
          record: { status: r.response.status, broken: r.response.broken, error: r.response.error, usage: r.usage, attempts: r.routing.attempts.map((t) => `${t.target}:${t.status}:${t.class}`) },
        };
      } finally {
        first.forget(id);
        second.forget(id);
      }
    },
    async stop() {
      await gw.stop(0);
      first.stop();
      second.stop();
    },
  };
}

/** The client's body as text: decoded when it went out compressed. */
export function plainText(s: Seen): string {
  const coding = s.headers.split(" ")[1];
  const b = coding === "gzip" ? zlib.gunzipSync(s.body) : coding === "deflate" ? zlib.inflateSync(s.body) : coding === "br" ? zlib.brotliDecompressSync(s.body) : coding === "zstd" ? zlib.zstdDecompressSync(s.body) : s.body;
  return dec.decode(b);
}

const show = (cuts: readonly number[]) => (cuts.length > 12 ? `${cuts.length + 1} pieces` : `cut at [${cuts.join(",")}]`);

/**
 * Deliver `a` cut at each of `cuts` and say how each differs from `base` (what the answer in one
 * piece gave): its status, headers, the client's bytes, the record — or the secret reaching the
 * client. Stops after 5 differences.
 */
export async function differences(gw: ChunkingGateway, a: Answer, bytes: Uint8Array, cuts: readonly (readonly number[])[], base: Seen): Promise<string[]> {
  const differ: string[] = [];
  for (const c of cuts) {
    const seen = await gw.deliver(a, bytes, c);
    const same = seen.status === base.status && seen.headers === base.headers && Buffer.from(seen.body).equals(Buffer.from(base.body)) && Bun.deepEquals(seen.record, base.record);
    if (!same) {
      differ.push(`${show(c)}: ${JSON.stringify({ status: seen.status, record: seen.record })} ${JSON.stringify(plainText(seen).slice(0, 400))}`);
      if (differ.length >= 5) break;
    }
    if (plainText(seen).includes(SECRET)) differ.push(`${show(c)}: the secret reached the client`);
  }
  if (differ.length) console.error(`${a.name}: one piece gave ${JSON.stringify({ status: base.status, record: base.record })} ${JSON.stringify(plainText(base).slice(0, 400))}`);
  return differ;
}
