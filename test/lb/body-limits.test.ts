// Issue 12 item 5: what one request and all requests together may cost gw when it takes in a
// JSON body. Wide bodies (millions of tiny values) and deep ones are refused before JSON.parse
// builds them, in the client's dialect; the bodies in flight together stay within
// lb_max_body_memory_mb (503 + Retry-After beyond it, one request alone always fits); normal
// bodies — Claude Code's, and big image-laden ones — pass. RSS figures: bench/json-attack.ts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as zlib from "node:zlib";
import { BodyBudget } from "../../src/lb/body-budget.ts";
import { jsonShape, type Member } from "../../src/lb/json-shape.ts";
import type { RunningGateway } from "../../src/lb/server.ts";
import { BODIES } from "../../bench/lb-bodies.ts";
import { configFrom, externalInstances, testUpstream, type TestUpstream, waitFor, startTestGateway } from "../helpers/lb.ts";

describe("jsonShape", () => {
  test("counts values and depth outside strings only", () => {
    expect(jsonShape('{"a":[1,2,{"b":"[[[,,,]]]"}],"c":"\\\\","d":"\\"{["}', 10, 100)).toEqual({ elements: 7 });
    expect(jsonShape("[[[[]]]]", 3, 100)).toEqual({ tooDeep: 3 });
    expect(jsonShape("[[[]]]", 3, 100)).toEqual({ elements: 3 });
    expect(jsonShape(`[${"{},".repeat(50)}{}]`, 10, 200)).toEqual({ elements: 102 }); // 52 brackets, 50 commas
    expect(jsonShape(`[${"{},".repeat(50)}{}]`, 10, 60)).toEqual({ tooMany: 60 });
    expect(jsonShape('{"unterminated', 10, 10)).toEqual({ elements: 1 });
  });
  test("lists the top-level members whose values end; a cut-off text's last one is not listed", () => {
    const members: Member[] = [];
    jsonShape('{"a": 1 ,"b":{"c":[2]}}', 10, 100, members);
    expect(members).toEqual([
      { key: "a", start: 1, valueStart: 6, valueEnd: 7 },
      { key: "b", start: 9, valueStart: 13, valueEnd: 22 },
    ]);
    for (const cut of ['{"a":1,"b":2', '{"a":1,"b":"tw']) {
      const got: Member[] = [];
      jsonShape(cut, 10, 100, got);
      expect(got).toEqual([{ key: "a", start: 1, valueStart: 5, valueEnd: 6 }]);
    }
  });
  test("Claude Code's request is far inside the default limits", () => {
    const shape = jsonShape(BODIES.find((b) => b.name === "large")!.text, 128, 500_000);
    expect("elements" in shape && shape.elements < 2_000).toBe(true);
  });
  test("a hostile body is refused at the first limit it crosses", () => {
    expect(jsonShape(`{"x":[${"{},".repeat(3_000_000)}{}]}`, 128, 500_000)).toEqual({ tooMany: 500_000 });
    expect(jsonShape(`{"x":${"[".repeat(1_000_000)}`, 128, 500_000)).toEqual({ tooDeep: 128 });
  });
});

describe("BodyBudget", () => {
  test("holds add up to the limit; one request alone always fits; release gives back", () => {
    const budget = new BodyBudget();
    const a = budget.hold(100);
    expect(a.grow(150)).toBe(true); // alone: fits even beyond the limit
    const b = budget.hold(100);
    expect(b.grow(1)).toBe(false);
    a.release();
    a.release(); // idempotent
    expect(budget.inUse()).toBe(0);
    expect(b.grow(60)).toBe(true);
    const c = budget.hold(100);
    expect(c.grow(40)).toBe(true);
    expect(c.grow(1)).toBe(false);
    b.release();
    c.release();
    expect(budget.inUse()).toBe(0);
  });
});

describe("through the gateway", () => {
  let up: TestUpstream, gw: RunningGateway;
  beforeAll(() => {
    up = testUpstream((_req, seen) => Response.json({ ok: true, bytes: seen.body.length }));
    gw = startTestGateway(configFrom(`
[global]
main_port = 8145
lb_max_json_elements = 10000
lb_max_json_depth = 64
lb_max_body_memory_mb = 16
${externalInstances({ a: up.url })}
[routing]
"m" = [{ instance = "a", provider = "anthropic", model = "up" }]
`));
  });
  afterAll(async () => {
    await gw.stop(0);
    await up.stop();
  });
  const inUse = () => gw.bodyMemory();

  const send = (path: string, body: BodyInit, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body, duplex: "half" } as RequestInit);

  test("too many values: 413, too deep: 400, each in the client's dialect, nothing forwarded", async () => {
    const before = up.seen.length;
    const wide = `{"model":"m","x":[${"{},".repeat(20_000)}{}]}`;
    const deep = `{"model":"m","x":${"[".repeat(100)}${"]".repeat(100)}}`;
    const anth = await send("/v1/messages", wide);
    expect(anth.status).toBe(413);
    expect(await anth.json()).toMatchObject({ type: "error", error: { type: "request_too_large", message: expect.stringContaining("lb_max_json_elements") } });
    const oai = await send("/v1/chat/completions", deep);
    expect(oai.status).toBe(400);
    expect((await oai.json()).error).toMatchObject({ type: "invalid_request_error", message: expect.stringContaining("lb_max_json_depth") });
    const gem = await send("/v1beta/models/m:generateContent", wide);
    expect(gem.status).toBe(413);
    expect((await gem.json()).error).toMatchObject({ code: 413, status: "INVALID_ARGUMENT" });
    // The same spelled as text/plain or with no type at all is judged the same (item 16).
    expect((await send("/v1/messages", wide, { "content-type": "text/plain" })).status).toBe(413);
    expect(up.seen.length).toBe(before);
  });

  test("bodies in flight together stay within the budget: 503 + Retry-After, then it fits again", async () => {
    // A client trickling a 12 MB body holds 12 MB of the 16 MB budget while it is read.
    let finish!: () => void;
    const held = new Promise<void>((r) => (finish = r));
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    const trickle = new ReadableStream<Uint8Array>({
      async start(c) {
        c.enqueue(new TextEncoder().encode('{"model":"m","pad":"'));
        for (let i = 0; i < 12; i++) c.enqueue(chunk);
        await held;
        c.enqueue(new TextEncoder().encode('"}'));
        c.close();
      },
    });
    const first = send("/v1/messages", trickle);
    await waitFor(() => inUse() >= 12 * 1024 * 1024, 10_000, "the first body to be held");
    const eight = JSON.stringify({ model: "m", pad: " ".repeat(8 * 1024 * 1024) });
    const refused = await send("/v1/messages", eight);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect((await refused.json()).error.message).toContain("lb_max_body_memory_mb");
    finish();
    expect((await first).status).toBe(200);
    await waitFor(() => inUse() === 0, 10_000, "the budget to be free");
    expect((await send("/v1/messages", eight)).status).toBe(200);
  });

  test("compressed bombs decoding side by side are held in the budget as they decode: gw's memory stays put", async () => {
    // 60 bodies of a few KB that decode past lb_max_body_mb = 32. Each decode alone stops at the
    // limit, but 30 gzip ones at once held ~1 GB before the budget saw any of it, and each brotli
    // decoder takes the 16 MiB window its first bits ask for before it writes a byte.
    const gzip = Bun.gzipSync(new Uint8Array(33 * 1024 * 1024).fill(0x20));
    const br = zlib.brotliCompressSync(new Uint8Array(33 * 1024 * 1024).fill(0x20), { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1, [zlib.constants.BROTLI_PARAM_LGWIN]: 24 } });
    Bun.gc(true);
    const before = process.memoryUsage.rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => send("/v1beta/models/m:generateContent", i % 2 ? gzip : br, { "content-encoding": i % 2 ? "gzip" : "br" })),
    );
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
    expect(peak - before).toBeLessThan(256 * 1024 * 1024);
    for (const res of answers) {
      expect([413, 503]).toContain(res.status);
      expect((await res.json()).error).toMatchObject({ code: res.status, message: expect.stringMatching(/lb_max_body_m(b|emory_mb)/) });
    }
    expect(answers.some((r) => r.status === 503)).toBe(true);
    await waitFor(() => inUse() === 0, 10_000, "the budget to be free");
  });

  test("normal bodies pass: Claude Code's, and a 20 MB one of images (alone, beyond the 16 MB budget)", async () => {
    expect((await send("/v1/messages?beta=true", BODIES.find((b) => b.name === "large")!.text)).status).toBe(200);
    const image = { type: "image", source: { type: "base64", media_type: "image/png", data: Buffer.alloc(1536 * 1024, 7).toString("base64") } };
    const images = JSON.stringify({ model: "m", max_tokens: 5, messages: [{ role: "user", content: [...Array.from({ length: 10 }, () => image), { type: "text", text: "what is this?" }] }] });
    expect(images.length).toBeGreaterThan(20 * 1024 * 1024);
    const res = await send("/v1/messages", images);
    expect(res.status).toBe(200);
    expect((await res.json()).bytes).toBe(images.length + 1); // "m" became "up"
    expect(inUse()).toBe(0);
  });
});
