// Bounded fuzz on loopback: 10,000 malformed or hostile requests. gw must never crash or hang,
// and must answer each with a 4xx in the client's dialect — or forward it when it is valid.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Gateway } from "../../src/lb/server.ts";
import { configFrom, externalInstances, startTestGateway } from "../helpers/lb.ts";
import { type MockServer, startMock } from "../helpers/mock.ts";

const TOTAL = 10_000;
const CONCURRENCY = 32;
let mock: MockServer, gw: Gateway;

beforeAll(() => {
  mock = startMock({ name: "a", apiKeys: ["key-a"] });
  gw = startTestGateway(configFrom(`
[global]
main_port = 8145
lb_max_body_mb = 1
${externalInstances({ a: mock.url })}
[routing]
"m" = [{ instance = "a", provider = "anthropic", model = "claude-up", params = { max_tokens_max = 1000, thinking_budget_max = 500 } }]
`));
});
afterAll(async () => {
  await gw.stop(0);
  await mock.stop();
});

/** Deterministic PRNG (mulberry32) so a failure can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(4242);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const PATHS = ["/v1/messages", "/v1/chat/completions", "/v1/responses", "/v1/messages/count_tokens", "/v1beta/models/m:generateContent", "/v1/v1/messages?beta=true"];
const dialectOfPath = (p: string) => (p.includes("messages") ? "anthropic" : p.startsWith("/v1beta") ? "gemini" : "openai");
const WEIRD = [5, -1, 1.5, "x", "", null, true, [], {}, [1], { a: 1 }, "9".repeat(400), 1e308];
const valid = () => ({ model: pick(["m", "m", "claude-raw"]), max_tokens: 100, messages: [{ role: "user", content: "hi" }] });

function parses(text: string): boolean {
  if (text === "") return true;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

type Case = { kind: string; path: string; init: RequestInit; expect: "error" | "forward" | "either" };

function makeCase(): Case {
  const path = pick(PATHS);
  const headers: Record<string, string> = { "content-type": "application/json" };
  const r = rand();
  if (r < 0.25) {
    const text = JSON.stringify(valid());
    const cut = text.slice(0, Math.floor(rand() * (text.length - 1)));
    const garbage = pick([cut, cut + "}", "{'model': 'm'}", "nul", "{\"model\":\"m\",}", String.fromCharCode(...Array.from({ length: 30 }, () => Math.floor(rand() * 256)))]);
    // A cut can land on valid JSON (`{"model":"m"}`) or on nothing at all: those may be forwarded.
    return { kind: "broken-json", path, init: { method: "POST", headers, body: garbage }, expect: parses(garbage) ? "either" : "error" };
  }
  if (r < 0.5) {
    const body: Record<string, unknown> = valid();
    const field = pick(["model", "max_tokens", "thinking", "budget"]);
    const bad = pick(WEIRD.filter((w) => !(field === "model" && typeof w === "string") && !(field === "max_tokens" && Number.isInteger(w) && (w as number) >= 0) && !(field === "thinking" && w !== null && typeof w === "object" && !Array.isArray(w))));
    if (field === "budget") body.thinking = { type: "enabled", budget_tokens: pick(["x", 1.5, null, [], {}]) };
    else body[field] = bad;
    // null is "absent" for max_tokens/thinking: valid, so forwarded.
    return { kind: `wrong-type-${field}`, path, init: { method: "POST", headers, body: JSON.stringify(body) }, expect: bad === null && field !== "model" ? "forward" : "either" };
  }
  if (r < 0.62) {
    const big: Record<string, string> = { ...headers };
    const n = 1 + Math.floor(rand() * 60);
    for (let i = 0; i < n; i++) big[`x-fuzz-${i}`] = "v".repeat(Math.floor(rand() * 200));
    return { kind: "many-headers", path, init: { method: "POST", headers: big, body: JSON.stringify(valid()) }, expect: "forward" };
  }
  if (r < 0.64) {
    const pad = "x".repeat(1024 * 1024 + Math.floor(rand() * 1000));
    return { kind: "over-limit", path, init: { method: "POST", headers, body: JSON.stringify({ ...valid(), pad }) }, expect: "error" };
  }
  if (r < 0.8) {
    const odd = pick(["/v0/management/config", "/v0/management/../x", "/V0/MANAGEMENT/usage", "/%76%30/management/x", "/v1/%2e%2e/v0/management/x", "/v1/messages%2f..%2f..%2fv0%2fmanagement", "//v0//management", "/v1/x/%2E%2E/%2e%2e/v0/management/y", "/%ff%fe", "/v1/messages/%"]);
    // URL parsing resolves dot segments first, so `/v0/management/../x` is just `/x`: forwardable.
    return { kind: "odd-path", path: odd, init: { method: pick(["GET", "POST", "DELETE"]), headers, body: undefined }, expect: "either" };
  }
  if (r < 0.9) {
    const body = { ...valid(), thinking: { type: "enabled", budget_tokens: Math.floor(rand() * 5000) }, max_tokens: Math.floor(rand() * 50000) };
    return { kind: "valid", path, init: { method: "POST", headers, body: JSON.stringify(body) }, expect: "forward" };
  }
  const body = pick(["[]", "1", "\"s\"", "null", "true", "{}", JSON.stringify({ model: { nested: 1 } })]);
  return { kind: "non-object", path, init: { method: "POST", headers, body }, expect: body === "{}" ? "forward" : "error" };
}

/** Is `body` gw's error shape for the dialect of `path`? */
function inDialect(path: string, body: any): boolean {
  const d = dialectOfPath(path);
  if (d === "anthropic") return body?.type === "error" && typeof body.error?.type === "string" && typeof body.error?.message === "string";
  if (d === "gemini") return typeof body?.error?.code === "number" && typeof body.error.status === "string";
  return typeof body?.error?.message === "string" && typeof body.error.type === "string";
}

async function classify(c: Case): Promise<string> {
  const res = await fetch(gw.url + c.path, c.init);
  const text = await res.text();
  const forwarded = res.headers.has("x-gw-attempts");
  if (forwarded && res.status < 500) return c.expect === "error" ? `wrongly-forwarded:${c.kind}:${c.path}:${String(c.init.body).slice(0, 40)}` : "forwarded";
  if (res.status >= 400 && res.status < 500 && !forwarded) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {}
    return inDialect(c.path, body) || (c.kind === "odd-path" && inDialect("/v1/x", body)) ? "4xx-in-dialect" : `4xx-not-in-dialect:${c.kind}:${c.path}:${text.slice(0, 80)}`;
  }
  return `unexpected-${res.status}:${c.kind}:${c.path}:${text.slice(0, 80)}`;
}

/** Raw socket requests fetch would refuse or normalize: a trickling client, junk request lines. */
async function rawExchange(chunks: readonly string[], gapMs: number): Promise<string> {
  let got = "";
  const { promise, resolve } = Promise.withResolvers<string>();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port: gw.port,
    socket: { data: (_s, d) => void (got += d.toString()), close: () => resolve(got), error: () => resolve(got) },
  });
  for (const c of chunks) {
    socket.write(c);
    await Bun.sleep(gapMs);
  }
  const done = await Promise.race([promise, Bun.sleep(15_000).then(() => `${got}<hung>`)]);
  socket.end();
  return done;
}

function rawCases(): { kind: string; chunks: string[]; gapMs: number }[] {
  const body = JSON.stringify(valid());
  const req = `POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`;
  const trickle = req.match(/[\s\S]{1,6}/g)!;
  return [
    ...Array.from({ length: 20 }, () => ({ kind: "slowloris", chunks: trickle, gapMs: 5 })),
    ...["/../../etc/passwd", "/v1/../v0/management/x", "/%2e%2e/%2e%2e/v0/management", "/v1/messages/../../v0/management/config"].map((p) => ({
      kind: "raw-odd-path",
      chunks: [`GET ${p} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n`],
      gapMs: 0,
    })),
    { kind: "huge-header", chunks: [`POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(70_000)}\r\nconnection: close\r\n\r\n`], gapMs: 0 },
    { kind: "junk", chunks: ["\x00\x01 garbage\r\n\r\n"], gapMs: 0 },
  ];
}

test("10,000 hostile requests: no crash, no hang, 4xx in dialect or forwarded", async () => {
  const counts: Record<string, number> = {};
  const kinds: Record<string, number> = {};
  const raws = rawCases();
  const n = TOTAL - raws.length;
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const c = makeCase();
      kinds[c.kind] = (kinds[c.kind] ?? 0) + 1;
      const outcome = await classify(c);
      counts[outcome] = (counts[outcome] ?? 0) + 1;
    }
  };
  const rawResults = Promise.all(
    raws.map(async (r) => {
      const reply = await rawExchange(r.chunks, r.gapMs);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? (reply.includes("<hung>") ? "hung" : "closed");
      const key = `raw:${r.kind}:${status}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }),
  );
  await Promise.all([...Array.from({ length: CONCURRENCY }, worker), rawResults]);
  console.log("fuzz kinds:", JSON.stringify(kinds));
  console.log("fuzz outcomes:", JSON.stringify(counts, null, 1));

  const bad = Object.keys(counts).filter((k) => !/^(4xx-in-dialect|forwarded|raw:slowloris:200|raw:raw-odd-path:4\d\d|raw:huge-header:431|raw:junk:400)$/.test(k));
  expect(bad).toEqual([]);
  // Whatever the spelling, nothing reached the instance's management API.
  expect(Object.keys(mock.stats().byPath).filter((p) => /management/i.test(p))).toEqual([]);
  expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(TOTAL);
  expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  expect(gw.stats().inFlight).toBe(0);
}, 60_000);
