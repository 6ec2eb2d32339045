// An upstream that echoes keys JSON-escaped — every character `\uXXXX`, Go's `\u0026`/`\u003c`,
// PHP's `\/` — in an error status body, in an error event of a 200 stream, in an error too large to
// hold whole: neither the client (an SDK decodes the JSON, and the key with it) nor the request log
// gets the key. Answers that quote nothing pass as the upstream's bytes, escapes and all.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunningGateway } from "../../src/lb/server.ts";
import { type Answer, chunkingGateway, type ChunkingGateway, encoded, JSON_TYPE, plainText, SECRET, SSE, sse } from "../helpers/chunking.ts";
import { configFrom, startTestGateway, testUpstream, type TestUpstream } from "../helpers/lb.ts";
import { filesUnder, logRecords, rejection } from "../helpers/resilience.ts";
import { escapedUnit, everyUnitEscaped, jsonDecoded } from "../helpers/json-escapes.ts";
import { tempDir } from "../helpers/tmp.ts";

const PROVIDER_KEY = "sk-ant-api03-ProviderKeyEchoed0123456789abcdefgh";
const INSTANCE_KEY = "gw-inst&key<7f3a9c2e5b1d4f60>"; // Go's encoder writes its & < > escaped
const CLIENT_KEY = "client-key-abcdef0123456789";
// Shapes gw cannot know, masked by their look.
const SHAPE = "sk-proj-UnknownToGw0123456789ABCDEFGHIJ";
const REFRESH = "1//0gRefreshTokenAbCdEfGhIjKlMnOp";
const SECRETS = [PROVIDER_KEY, INSTANCE_KEY, CLIENT_KEY, SHAPE, REFRESH];

/** The keys as an upstream's JSON may write them: each a different encoder's way. */
const QUOTED = `invalid x-api-key ${everyUnitEscaped(PROVIDER_KEY)} (instance ${INSTANCE_KEY.replace(/[&<>]/g, escapedUnit)}, client ${escapedUnit("c")}${CLIENT_KEY.slice(1)}, token ${escapedUnit("s")}${SHAPE.slice(1)}, refresh ${REFRESH.replaceAll("/", "\\/")})\\n`;
const anthropicError = `{"type":"error","error":{"type":"authentication_error","message":"${QUOTED}"}}`;
const openaiError = `{"error":{"message":"${QUOTED}","type":"invalid_request_error","code":"invalid_api_key"}}`;

const OPENING = `event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"up","usage":{"input_tokens":1,"output_tokens":0}}}\n\n`;
const DELTA = (text: string) => `event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"${text}"}}\n\n`;
const STOP = `event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\nevent: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n`;
// Content written with escapes (and one that looks like the key: content is never masked).
const ESCAPED_CONTENT = String.raw`caf\u00e9 \"quoted\"\nnext line \/ tab\t \ud83c\udf0d`;
const OK = `{"id":"msg_1","type":"message","role":"assistant","model":"up","content":[{"type":"text","text":"${ESCAPED_CONTENT}"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":3}}`;
const PLAIN_ERROR = String.raw`{"type":"error","error":{"type":"invalid_request_error","message":"caf\u00e9 \"model\" unknown\n\u003cnone\u003e"}}`;

/** The secrets `text` gives away, read as written and as decoded once and twice (a log line's JSON holds the upstream's), in any letter case. */
const leaks = (text: string) => {
  const views = [text, jsonDecoded(text), jsonDecoded(jsonDecoded(text))].map((v) => v.toLowerCase());
  return SECRETS.filter((s) => views.some((v) => v.includes(s.toLowerCase())));
};

let up: TestUpstream, gw: RunningGateway, dir: string;
beforeAll(() => {
  up = testUpstream((req) => {
    const kind = req.headers.get("x-test-kind");
    const json = { "content-type": "application/json" };
    const stream = { "content-type": "text/event-stream" };
    if (kind === "status") return new Response(anthropicError, { status: 401, headers: json });
    if (kind === "openai-status") return new Response(openaiError, { status: 401, headers: json });
    if (kind === "sse-error") return new Response(`${OPENING}event: error\ndata: ${anthropicError}\n\n`, { headers: stream });
    if (kind === "sse-late-error") return new Response(`${OPENING}${DELTA("partial")}event: error\ndata: ${anthropicError}\n\n`, { headers: stream });
    if (kind === "ok-sse") return new Response(`${OPENING}${DELTA(ESCAPED_CONTENT)}${STOP}`, { headers: stream });
    if (kind === "plain-error") return new Response(PLAIN_ERROR, { status: 400, headers: json });
    return new Response(OK, { headers: json });
  });
  dir = tempDir("gw-escaped-");
  gw = startTestGateway(
    configFrom(
      `
[global]
main_port = 8145
api_keys = ["${CLIENT_KEY}"]
# Every answer here is the upstream's: a cooled target would make the next answer gw's own.
lb_auth_cooldown_ms = 0
lb_validation_cooldown_ms = 0
lb_transient_heavy_cooldown_ms = 0
[instances.a]
url = "${up.url}"
api_key = "${INSTANCE_KEY}"
providers = [{ type = "anthropic", api_keys = ["${PROVIDER_KEY}"] }, { type = "openai", base_url = "https://relay.example/v1", api_keys = ["sk-openai-provider-0123456789"] }]
[routing]
"m" = [{ instance = "a", provider = "anthropic", model = "up" }]
"o" = [{ instance = "a", provider = "openai", model = "up-o" }]
`,
      join(dir, "providers.toml"),
    ),
  );
});
afterAll(async () => {
  await gw.stop(0);
  await up.stop();
});

const anthropic = (kind: string) => new Anthropic({ baseURL: gw.url, apiKey: CLIENT_KEY, maxRetries: 0, defaultHeaders: { "x-test-kind": kind } });
const ask = { model: "m", max_tokens: 64, messages: [{ role: "user" as const, content: "hi" }] };
/** All an SDK's error carries that the client could show: its message and its decoded body. */
const shown = (e: unknown) => `${(e as Error).message} ${JSON.stringify((e as { error?: unknown }).error ?? null)}`;

describe("keys an upstream echoes JSON-escaped reach neither the client nor the log", () => {
  test("an error status body (Anthropic SDK): the decoded error holds the masks, not the keys", async () => {
    const err = await rejection(anthropic("status").messages.create(ask));
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(leaks(shown(err))).toEqual([]);
    const message = (err as { error: { error: { message: string } } }).error.error.message;
    expect(message).toStartWith("invalid x-api-key sk-ant…efgh (instance gw-ins…f60>, client client…6789, token sk-pro…GHIJ, refresh 1//0gR…MnOp)");
  });
  test("an error status body (OpenAI SDK)", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0, defaultHeaders: { "x-test-kind": "openai-status" } });
    const err = await rejection(client.chat.completions.create({ model: "o", messages: [{ role: "user", content: "hi" }] }));
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(leaks(shown(err))).toEqual([]);
    expect((err as Error).message).toContain("sk-ant…efgh");
  });
  test("an error event that opens a 200 stream, and one after content (Anthropic SDK streaming)", async () => {
    for (const kind of ["sse-error", "sse-late-error"]) {
      const err = await rejection(anthropic(kind).messages.stream(ask).finalMessage());
      expect([kind, leaks(shown(err))]).toEqual([kind, []]);
      expect(shown(err)).toContain("sk-ant…efgh");
    }
  });
  test("the request log holds none of them, as written or decoded", async () => {
    const client = anthropic("status");
    await rejection(client.messages.create(ask));
    await rejection(anthropic("sse-error").messages.stream(ask).finalMessage());
    const recs = await logRecords(dir, 2, (r) => r.response.status !== 200 || r.response.error !== undefined);
    expect(recs.some((r) => r.response.error?.includes("invalid x-api-key"))).toBe(true);
    const found = filesUnder(join(dir, "logs")).flatMap((f) => leaks(readFileSync(f, "utf8")).map((s) => `${s.slice(0, 8)}… in ${f.slice(dir.length + 1)}`));
    expect(found).toEqual([]);
  });
});

describe("what quotes no key passes as the upstream's bytes, its escapes as written", () => {
  const send = (kind: string, stream = false) =>
    fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "x-api-key": CLIENT_KEY, "x-test-kind": kind, "anthropic-version": "2023-06-01" }, body: JSON.stringify({ ...ask, stream }) });
  test("an answer and a streamed answer whose content holds \\n, \\\", \\u00e9, \\/ and a surrogate pair", async () => {
    expect(await (await send("ok")).text()).toBe(OK);
    expect(await (await send("ok-sse", true)).text()).toBe(`${OPENING}${DELTA(ESCAPED_CONTENT)}${STOP}`);
    const message = await anthropic("ok").messages.create(ask);
    expect(message.content[0]).toMatchObject({ type: "text", text: 'café "quoted"\nnext line / tab\t 🌍' });
  });
  test("an error with escapes and no key", async () => {
    const res = await send("plain-error");
    expect(res.status).toBe(400);
    expect(await res.text()).toBe(PLAIN_ERROR);
  });
});

describe("an error of 1.5 MB (more than gw holds whole to judge), its escaped key across the cuts", () => {
  let chunking: ChunkingGateway;
  beforeAll(() => void (chunking = chunkingGateway(() => "")));
  afterAll(() => chunking.stop());
  // SECRET (the gw's known provider key) written every character `\uXXXX`: 162 characters for 27.
  const written = everyUnitEscaped(SECRET);
  // An unknown token after `Bearer` and a newline written `\n`: Bearer's as read only. (Where gw's masking of a large
  // error cuts it depends on its reads, not on these cuts: a cut inside what is escaped is tested in mask-escaped.test.)
  const TOKEN = "tok3nUnknownToGw.0123456789abcdefghijklmn";
  const BEARER = String.raw` Bearer\n  ${TOKEN}`;
  // Prose with escapes, cut only between them (the key goes in there: inside an escape it would be another text).
  const UNIT = String.raw`the request \"was\" rejected;\n see C:\\logs\/x `;
  const between = (i: number) => !/^(\\\\)*\\$/.test(UNIT.slice(0, i % UNIT.length).match(/\\*$/)![0]);
  const kinds: { name: string; dialect: Answer["dialect"]; stream: boolean; text: (m: string) => string }[] = [
    { name: "a JSON error body with no length", dialect: "openai", stream: false, text: (m) => `{"error":{"message":"${m}","type":"invalid_request_error","code":"invalid_api_key"}}` },
    { name: "an error event opening a stream", dialect: "responses", stream: true, text: (m) => sse([["error", `{"type":"error","error":{"type":"invalid_request_error","code":"invalid_api_key","message":"${m}"}}`]]) },
  ];
  for (const kind of kinds) {
    test(`${kind.name}: the client's decoded message and the record hold no key, at any offset across a cut`, async () => {
      const cuts = [300_000, 700_000, 1_100_000, 1_300_000];
      const at = kind.text("").indexOf('message":"') + 10;
      // The key at the start and the end, and across three cuts starting 1, 3, 80 characters before it (inside the
      // written key: in an escape, between two), the Bearer token across the other; put in from the last, so each stays
      // where it was put.
      let message = UNIT.repeat(Math.ceil(1_500_000 / UNIT.length));
      for (const [from, what] of [[message.length, written], [cuts[3]! - at - 80, written], [cuts[2]! - at - 40, BEARER], [cuts[1]! - at - 3, written], [cuts[0]! - at - 1, written], [0, written]] as const) {
        let i = from;
        while (!between(i)) i--;
        message = message.slice(0, i) + what + message.slice(i);
      }
      for (const offsets of [cuts, cuts.map((c) => c - 2), cuts.map((c) => c + 5)]) {
        const answer: Answer = { name: kind.name, dialect: kind.dialect, stream: kind.stream, contentType: kind.stream ? SSE : JSON_TYPE, text: kind.text(message), alone: true };
        const seen = await chunking.deliver(answer, encoded(answer), offsets);
        const body = plainText(seen);
        const data = kind.stream ? body.slice(body.indexOf("data: ") + 6, body.indexOf("\n\n", body.indexOf("data: "))) : body;
        const got = (JSON.parse(data) as { error: { message: string } }).error.message;
        expect(got.includes(SECRET)).toBe(false);
        expect(got.includes(TOKEN)).toBe(false);
        expect(got.split("relay-…m4pW").length - 1).toBe(5);
        expect(jsonDecoded(seen.record.error ?? "").includes(SECRET)).toBe(false);
      }
    });
  }
});
