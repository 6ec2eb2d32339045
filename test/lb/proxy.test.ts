// The gateway against recording upstreams: routing, headers, auth, local answers, errors.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Gateway } from "../../src/lb/server.ts";
import { configFrom, externalInstances, startTestGateway, testUpstream, type TestUpstream } from "../helpers/lb.ts";

let a: TestUpstream, b: TestUpstream, mm: TestUpstream, gw: Gateway;

beforeAll(() => {
  a = testUpstream((_req, seen) =>
    Response.json({ from: "a", model: seen.body ? JSON.parse(seen.body).model : null }, {
      headers: { "x-upstream": "a", connection: "x-hop", "x-hop": "1", "keep-alive": "timeout=5" },
    }),
  );
  b = testUpstream((_req, seen) => Response.json({ from: "b", model: seen.body ? JSON.parse(seen.body).model : null }));
  mm = testUpstream();
  gw = startTestGateway(configFrom(`
[global]
main_port = 8145
api_keys = ["client-key"]
default_instance = "b"
${externalInstances({ a: a.url, b: b.url })}
[instances.mm]
url = "${mm.url}"
api_key = "key-mm"
providers = [{ type = "minimax", api_keys = ["sk-mm"] }]
[routing]
"weighted" = [
  { instance = "a", provider = "anthropic", model = "wa", weight = 80 },
  { instance = "b", provider = "anthropic", model = "wb", weight = 20 },
]
"tiered" = [
  { instance = "a", provider = "anthropic", model = "low", weight = 100, priority = 0 },
  { instance = "b", provider = "anthropic", model = "high", weight = 1, priority = 1 },
]
"mini" = [{ instance = "mm", provider = "minimax", model = "MiniMax-M2", params = { max_tokens_max = 1000 } }]
`));
});
afterAll(async () => {
  await gw.stop(0);
  await a.stop();
  await b.stop();
  await mm.stop();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(gw.url + path, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer client-key", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("client keys", () => {
  test("each key location is accepted; the client's key never goes upstream", async () => {
    const ways: [Record<string, string>, string][] = [
      [{ authorization: "Bearer client-key" }, ""],
      [{ "x-api-key": "client-key" }, ""],
      [{ "x-goog-api-key": "client-key" }, ""],
      [{}, "?key=client-key&alt=sse"],
    ];
    for (const [headers, query] of ways) {
      const before = a.seen.length + b.seen.length;
      const res = await fetch(`${gw.url}/v1/chat/completions${query}`, {
        method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ model: "tiered" }),
      });
      expect(res.status).toBe(200);
      const seen = [...a.seen, ...b.seen].slice(before)[0]!;
      expect(seen.headers.get("authorization")).toBe("Bearer key-b");
      expect(seen.headers.get("x-api-key")).toBeNull();
      expect(seen.headers.get("x-goog-api-key")).toBeNull();
      expect(seen.path).toBe(query ? "/v1/chat/completions?alt=sse" : "/v1/chat/completions");
    }
  });

  test("missing or wrong key → 401 in the client's dialect", async () => {
    const anth = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: "{}" });
    expect(anth.status).toBe(401);
    expect(await anth.json()).toEqual({ type: "error", error: { type: "authentication_error", message: expect.any(String) } });
    const oai = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { authorization: "Bearer nope" }, body: "{}" });
    expect(oai.status).toBe(401);
    expect((await oai.json()).error).toMatchObject({ type: "authentication_error", code: "invalid_api_key" });
    const gem = await fetch(`${gw.url}/v1beta/models/x:generateContent`, { method: "POST", body: "{}" });
    expect(gem.status).toBe(401);
    expect(await gem.json()).toEqual({ error: { code: 401, message: expect.any(String), status: "UNAUTHENTICATED" } });
  });
});

describe("routing", () => {
  test("weighted random within a route (80/20, 2000 requests, ±5 points)", async () => {
    let fromA = 0;
    const n = 2000;
    for (let i = 0; i < n; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => post("/v1/messages", { model: "weighted" }).then((r) => r.json())));
      fromA += batch.filter((x) => x.from === "a").length;
    }
    expect(Math.abs(fromA / n - 0.8)).toBeLessThan(0.05);
  });

  test("the highest priority tier wins regardless of weight", async () => {
    for (let i = 0; i < 20; i++) expect((await (await post("/v1/messages", { model: "tiered" })).json()).model).toBe("high");
  });

  test("explanation headers name route, target and attempts", async () => {
    const res = await post("/v1/messages", { model: "tiered" });
    expect(res.headers.get("x-gw-route")).toBe("tiered");
    expect(res.headers.get("x-gw-target")).toBe("b/high");
    expect(res.headers.get("x-gw-attempts")).toBe("1");
  });

  test("unknown model passes unchanged to default_instance", async () => {
    const res = await post("/v1/messages", { model: "claude-raw-name", max_tokens: 5 });
    expect(await res.json()).toEqual({ from: "b", model: "claude-raw-name" });
    expect(res.headers.get("x-gw-route")).toBe("-");
    expect(res.headers.get("x-gw-target")).toBe("b/claude-raw-name");
  });

  test("doubled /v1/v1 is folded and ?beta=true kept", async () => {
    const before = b.seen.length;
    await post("/v1/v1/messages?beta=true", { model: "tiered" });
    expect(b.seen[before]!.path).toBe("/v1/messages?beta=true");
  });

  test("only the model (and the route's params) change; every other byte arrives as the client sent it", async () => {
    const before = b.seen.length;
    const body = '{"model":"tiered",  "n":1.0, "big":12345678901234567890, "s":"\\u00e9\\/"}';
    await post("/v1/messages", body);
    expect(b.seen[before]!.body).toBe('{"model":"high",  "n":1.0, "big":12345678901234567890, "s":"\\u00e9\\/"}');
  });

  test("a minimax target gets no metadata (MiniMax rejects it), the rest untouched", async () => {
    const res = await post("/v1/messages", '{"model":"mini","metadata":{"user_id":"u1"}, "max_tokens":32000,"messages":[]}');
    expect(res.status).toBe(200);
    expect(mm.seen.at(-1)!.body).toBe('{"model":"MiniMax-M2","max_tokens":1000,"messages":[]}');
  });

  test("Gemini routes by the model in the path", async () => {
    const before = b.seen.length;
    const res = await post("/v1beta/models/tiered:generateContent", { contents: [] });
    expect(res.status).toBe(200);
    expect(b.seen[before]!.path).toBe("/v1beta/models/high:generateContent");
  });
});

describe("headers", () => {
  test("hop-by-hop headers are stripped both ways", async () => {
    const before = b.seen.length;
    const res = await post("/v1/messages", { model: "tiered" }, { connection: "keep-alive, x-secret-hop", "x-secret-hop": "1", te: "trailers", "proxy-authorization": "p" });
    const seen = b.seen[before]!;
    expect(seen.headers.get("x-secret-hop")).toBeNull();
    expect(seen.headers.get("te")).toBeNull();
    expect(seen.headers.get("proxy-authorization")).toBeNull();
    await res.text();
    // Target a's responses carry hop-by-hop headers (its own and one named in Connection).
    for (let i = 0; i < 100; i++) {
      const r = await post("/v1/messages", { model: "weighted" });
      await r.text();
      if (r.headers.get("x-upstream") !== "a") continue;
      expect(r.headers.get("x-hop")).toBeNull();
      expect(r.headers.get("keep-alive")).toBeNull();
      return;
    }
    throw new Error("target a was never picked");
  });
});

describe("local answers", () => {
  test("probes and health answer 200 without a key", async () => {
    for (const [method, path] of [["HEAD", "/"], ["HEAD", "/api/hello"], ["GET", "/healthz"]] as const) {
      expect((await fetch(gw.url + path, { method })).status).toBe(200);
    }
  });
  test("/v1/models lists routes, OpenAI or Anthropic shape", async () => {
    const oai = await (await fetch(`${gw.url}/v1/models`, { headers: { authorization: "Bearer client-key" } })).json();
    expect(oai.data.map((m: { id: string }) => m.id)).toEqual(["weighted", "tiered", "mini"]);
    expect(oai.object).toBe("list");
    const anth = await (await fetch(`${gw.url}/v1/models`, { headers: { "x-api-key": "client-key", "anthropic-version": "2023-06-01" } })).json();
    expect(anth.data[0]).toMatchObject({ type: "model", id: "weighted" });
    expect(anth.has_more).toBe(false);
  });
  test("management paths are refused in every spelling, never proxied", async () => {
    const before = a.seen.length + b.seen.length;
    for (const p of ["/v0/management/config", "/V0/Management/x", "/v0//management/x", "/%76%30/management/x", "/v1/../v0/management/x", "/v1/%2e%2e/v0/management/x"]) {
      const res = await fetch(gw.url + p, { headers: { authorization: "Bearer client-key" } });
      expect(res.status).toBe(403);
    }
    expect(a.seen.length + b.seen.length).toBe(before);
  });
});
