// Issue 12 item 16: routes stay the allow-list of what reaches upstream models, whatever the
// Content-Type says. A body that is a JSON object is routed, rewritten and limited like any JSON
// request — with text/plain (what a browser form or a careless client sends), with curl -d's
// form-urlencoded, or with no type — and reaches the upstream as application/json; one that does
// not parse is refused whatever its type. Other bodies pass, as bytes, only as forms sent to the
// upload endpoints (image edits, videos, realtime calls); anywhere else they get 415.
import * as zlib from "node:zlib";
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Gateway } from "../../src/lb/server.ts";
import { configFrom, startTestGateway, testUpstream, type TestUpstream } from "../helpers/lb.ts";

let routed: TestUpstream, fallback: TestUpstream, gw: Gateway;
beforeAll(() => {
  routed = testUpstream((_req, seen) => Response.json({ via: "routed", type: seen.headers.get("content-type"), body: seen.body }));
  fallback = testUpstream((_req, seen) => Response.json({ via: "default", type: seen.headers.get("content-type"), body: seen.body }));
  gw = startTestGateway(configFrom(`
[global]
main_port = 8145
default_instance = "fallback"
[instances.routed]
url = "${routed.url}"
api_key = "k-routed"
providers = [{ type = "anthropic", api_keys = ["p1"] }]
[instances.fallback]
url = "${fallback.url}"
api_key = "k-fallback"
providers = [{ type = "anthropic", api_keys = ["p2"] }]
[routing]
"opus" = [{ instance = "routed", provider = "anthropic", model = "claude-opus-up", params = { max_tokens_max = 100 } }]
`));
});
afterAll(async () => {
  await gw.stop(0);
  await routed.stop();
  await fallback.stop();
});

const JSON_BODY = JSON.stringify({ model: "opus", max_tokens: 32000, messages: [{ role: "user", content: "hi" }] });
const post = (body: BodyInit, type?: string) => {
  const headers = new Headers();
  if (type) headers.set("content-type", type);
  return fetch(`${gw.url}/v1/messages`, { method: "POST", headers, body });
};
type Echo = { via: string; type: string | null; body: string };

test("a JSON body is routed and its params applied whatever its Content-Type: text/plain, form-urlencoded, none", async () => {
  for (const type of ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", undefined, "application/json"]) {
    const res = await post(new Blob([JSON_BODY]), type); // a Blob carries no type of its own
    const echo = (await res.json()) as Echo;
    const sent = JSON.parse(echo.body) as { model: string; max_tokens: number };
    expect({ type, via: echo.via, model: sent.model, maxTokens: sent.max_tokens, upstreamType: echo.type }).toEqual({
      type,
      via: "routed",
      model: "claude-opus-up",
      maxTokens: 100,
      upstreamType: "application/json",
    });
    expect(res.headers.get("x-gw-route")).toBe("opus");
  }
});

test("other bodies: forms pass as bytes to upload endpoints only; elsewhere 415, whatever the upstream might make of them", async () => {
  const form = () => {
    const f = new FormData();
    f.append("model", "opus");
    f.append("prompt", "make it blue");
    f.append("image", new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])]), "a.png");
    return f;
  };
  const upload = (await (await fetch(`${gw.url}/v1/images/edits`, { method: "POST", body: form() })).json()) as Echo;
  expect(upload.via).toBe("default");
  expect(upload.type).toStartWith("multipart/form-data; boundary=");
  expect(upload.body).toContain('name="model"');
  const urlencoded = (await (await fetch(`${gw.url}/openai/v1/videos`, { method: "POST", body: new URLSearchParams({ model: "sora-2", prompt: "a cat" }) })).json()) as Echo;
  expect(urlencoded).toMatchObject({ via: "default", body: "model=sora-2&prompt=a+cat" });

  const before = routed.seen.length + fallback.seen.length;
  // CLIProxyAPI reads these bodies leniently (gjson skips to the first "{"): each would put a
  // model of the client's choosing upstream, past the routes and their params.
  const smuggled = 'x{"model":"claude-opus-4-6","max_tokens":64000,"messages":[]}';
  const refusals: [string, BodyInit, string | undefined][] = [
    ["/v1/messages", smuggled, "text/plain"],
    ["/v1/messages", smuggled, "application/x-www-form-urlencoded"],
    ["/v1/chat/completions", "just words", "text/plain"],
    ["/v1/messages", form(), undefined], // multipart, to a JSON endpoint
    ["/v1/images/edits", smuggled, "text/plain"], // an upload endpoint, but not a form
  ];
  for (const [path, body, type] of refusals) {
    const headers = type ? { "content-type": type } : undefined;
    const res = await fetch(`${gw.url}${path}`, { method: "POST", body, headers });
    expect({ path, type, status: res.status }).toEqual({ path, type, status: 415 });
  }
  // Starts as a JSON object but does not parse: 400 under any type (the upstream would read a
  // trailing-comma body all the same).
  for (const type of ["application/json", undefined, "text/plain", "application/x-www-form-urlencoded"]) {
    for (const body of ["{not json", '{"model":"claude-opus-4-6","messages":[],}']) {
      const res = await post(new Blob([body]), type);
      expect({ type, body, status: res.status }).toEqual({ type, body, status: 400 });
    }
  }
  expect(routed.seen.length + fallback.seen.length).toBe(before);
});

// Codex CLI zstd-compresses its Responses bodies; other clients gzip theirs. CLIProxyAPI decodes
// zstd (sdk/api/handlers/request_body.go); gw decodes every usual coding, so the body is routed
// and rewritten like a plain one and goes upstream plain.
test("a compressed JSON body (gzip, x-gzip, deflate, br, zstd, stacked) is decoded, routed, rewritten and sent plain", async () => {
  const raw = new TextEncoder().encode(JSON_BODY);
  const cases: [string, Uint8Array<ArrayBuffer>][] = [
    ["gzip", Bun.gzipSync(raw)],
    ["x-gzip", Bun.gzipSync(raw)],
    ["deflate", zlib.deflateSync(raw)],
    ["deflate", zlib.deflateRawSync(raw)],
    ["br", zlib.brotliCompressSync(raw)],
    ["zstd", zlib.zstdCompressSync(raw)],
    ["gzip, zstd", zlib.zstdCompressSync(Bun.gzipSync(raw))],
    ["identity", raw],
  ];
  for (const [coding, bytes] of cases) {
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", "content-encoding": coding }, body: bytes });
    const echo = (await res.json()) as Echo;
    const sent = JSON.parse(echo.body) as { model: string; max_tokens: number };
    expect({ coding, status: res.status, via: echo.via, model: sent.model, maxTokens: sent.max_tokens }).toEqual({ coding, status: 200, via: "routed", model: "claude-opus-up", maxTokens: 100 });
    expect(routed.seen.at(-1)!.headers.get("content-encoding") ?? "identity").toBe("identity");
  }
});

test("a compressed body gw cannot take: an unknown coding 415, bad data 400, a bomb past lb_max_body_mb 413 — each naming the cause", async () => {
  const before = routed.seen.length + fallback.seen.length;
  const send = (coding: string, body: Uint8Array<ArrayBuffer>) =>
    fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", "content-encoding": coding, "anthropic-version": "2023-06-01" }, body });
  const unknown = await send("compress", new TextEncoder().encode(JSON_BODY));
  expect(unknown.status).toBe(415);
  expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain("not compress (Content-Encoding)");
  const bad = await send("gzip", new TextEncoder().encode(JSON_BODY));
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { error: { message: string } }).error.message).toContain("not valid gzip data");
  // A zstd body cut short (a client killed mid-upload behind a buffering proxy): zlib's decoder
  // would hand back nothing, or the first blocks, as if whole.
  const zstd = zlib.zstdCompressSync(new TextEncoder().encode(JSON_BODY));
  for (const cut of [zstd.length - 1, zstd.length >> 1, 6]) {
    const short = await send("zstd", zstd.subarray(0, cut));
    expect({ cut, status: short.status }).toEqual({ cut, status: 400 });
    expect(((await short.json()) as { error: { message: string } }).error.message).toContain("not valid zstd data");
  }
  const bomb = await send("gzip", Bun.gzipSync(new Uint8Array(33 * 1024 * 1024).fill(0x20))); // 33 MiB of spaces in 33 KB
  expect(bomb.status).toBe(413);
  expect(((await bomb.json()) as { error: { message: string } }).error.message).toContain("lb_max_body_mb");
  expect(routed.seen.length + fallback.seen.length).toBe(before);
});
