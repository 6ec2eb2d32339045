// How far failover goes: lb_max_target_retries, lb_retry_auth_on_5xx (with a gzip-compressed
// error body that must be decoded to be recognised as auth), and client errors that are never
// retried nor cooled.
import Anthropic from "@anthropic-ai/sdk";
import * as zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type TestUpstream, testUpstream } from "../../helpers/lb.ts";
import { answeredBy, claude, errorExplained, type Rig, rejection, startRig } from "../../helpers/resilience.ts";

const LONG = "lb_auth_cooldown_ms = 600000\nlb_transient_cooldown_ms = 600000\nlb_transient_heavy_cooldown_ms = 600000";
const chain = (a: string, b: string) => `[
  { instance = "a", provider = "anthropic", model = "${a}", priority = 2 },
  { instance = "b", provider = "anthropic", model = "${b}", priority = 1 },
  { instance = "c", provider = "anthropic", model = "claude-c" },
]`;
const pair = (a: string) => `[
  { instance = "a", provider = "anthropic", model = "${a}", priority = 1 },
  { instance = "b", provider = "anthropic", model = "claude-b" },
]`;

describe("defaults: lb_max_target_retries = 1, lb_retry_auth_on_5xx = true", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({
      mocks: ["a", "b", "c"],
      global: LONG,
      routing: `"three" = ${chain("claude-a~500", "claude-b~502")}\n"auth5xx" = ${pair("claude-a~503")}\n"bad" = ${pair("claude-a~400")}\n"count" = ${pair("claude-a~429")}`,
    });
  });
  afterAll(() => rig.stop());

  test("two failing targets: one retry, the second error reaches the client, the third target is never asked", async () => {
    const [c0] = [rig.hits("c")];
    const err = await rejection(claude(rig.anthropic(), "three"));
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect(errorExplained(err)).toMatchObject({ status: 502, attempts: 2, target: "b/claude-b~502" });
    expect(rig.hits("c")).toBe(c0);
  }, 30_000);

  test("an auth error that came as 503 is retried", async () => {
    const ok = await claude(rig.anthropic(), "auth5xx", { stream: true });
    expect(ok).toMatchObject({ status: 200, attempts: 2, target: "b/claude-b" });
  }, 30_000);

  test("a plain 400 is the client's fault: delivered, not retried, not cooled", async () => {
    const [a0, b0] = [rig.hits("a"), rig.hits("b")];
    for (let i = 1; i <= 2; i++) {
      const err = await rejection(claude(rig.anthropic(), "bad", { stream: i === 2 }));
      expect(err).toBeInstanceOf(Anthropic.BadRequestError);
      expect(errorExplained(err)).toMatchObject({ status: 400, attempts: 1, target: "a/claude-a~400" });
      expect(rig.hits("a")).toBe(a0 + i); // asked again: no cooldown
    }
    expect(rig.hits("b")).toBe(b0);
  }, 30_000);

  test("count_tokens fails over too", async () => {
    const { data, response } = await rig.anthropic().messages.countTokens({ model: "count", messages: [{ role: "user", content: "hi" }] }).withResponse();
    expect(data.input_tokens).toBeGreaterThan(0);
    expect(response.headers.get("x-gw-target")).toBe("b/claude-b");
    expect(response.headers.get("x-gw-attempts")).toBe("2");
    expect(rig.mocks.a!.stats(1).last[0]).toMatchObject({ path: "/v1/messages/count_tokens", status: 429 });
  }, 30_000);
});

// CLIProxyAPI's "no usable credential" 503, compressed the ways an upstream may compress it.
const AUTH_503 = Buffer.from(JSON.stringify({ error: { message: "auth_unavailable: no auth available (providers=x, model=m)", type: "server_error" } }));
const ENCODINGS: Record<string, (b: Buffer) => Buffer> = {
  br: (b) => zlib.brotliCompressSync(b),
  deflate: (b) => zlib.deflateSync(b),
  "deflate (raw)": (b) => zlib.deflateRawSync(b),
  zstd: (b) => zlib.zstdCompressSync(b),
};

describe("lb_max_target_retries = 2, lb_retry_auth_on_5xx = false", () => {
  let rig: Rig;
  let packed: TestUpstream;
  beforeAll(() => {
    packed = testUpstream((_req, seen) => {
      const enc = (JSON.parse(seen.body) as { model: string }).model;
      const header = enc.startsWith("deflate") ? "deflate" : enc;
      return new Response(new Uint8Array(ENCODINGS[enc]!(AUTH_503)), { status: 503, headers: { "content-type": "application/json", "content-encoding": header } });
    });
    rig = startRig({
      mocks: ["a", "b", "c"],
      global: `${LONG}\nlb_max_target_retries = 2\nlb_retry_auth_on_5xx = false`,
      routing: [
        `"three" = ${chain("claude-a~500", "claude-b~502")}`,
        `"auth5xx" = ${pair("claude-a~503")}`,
        `"auth5xx-gzip" = ${pair("claude-a~gzip~503")}`,
        `"auth4xx" = ${pair("claude-a~401")}`,
        `"alone" = [{ instance = "a", provider = "anthropic", model = "claude-a~429" }]`,
        `"twice" = [{ instance = "a", provider = "anthropic", model = "claude-a~529", weight = 9 }, { instance = "b", provider = "anthropic", model = "claude-b~502", weight = 1 }]`,
        ...Object.keys(ENCODINGS).map(
          (e) => `"packed-${e.replace(/\W/g, "")}" = [{ instance = "packed", provider = "anthropic", model = "${e}", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b" }]`,
        ),
      ].join("\n"),
      upstreams: { packed: packed.url },
    });
  });
  afterAll(async () => {
    await rig.stop();
    await packed.stop();
  });

  for (const e of Object.keys(ENCODINGS)) {
    test(`a ${e}-compressed auth_unavailable 503 is decoded and recognised as auth: not retried`, async () => {
      const err = await rejection(claude(rig.anthropic(), `packed-${e.replace(/\W/g, "")}`));
      expect(errorExplained(err)).toMatchObject({ status: 503, attempts: 1, target: `packed/${e}` });
    }, 30_000);
  }

  test("two failing targets: the third answers", async () => {
    for (const stream of [false, true]) {
      const route = "three";
      const ok = await claude(rig.anthropic(), route, { stream });
      // The first call tries a, b, c; on the second a and b are cooling, so c is asked at once.
      expect(ok).toMatchObject({ status: 200, target: "c/claude-c", attempts: stream ? 1 : 3 });
      expect(answeredBy(ok.text)).toBe("c");
    }
  }, 30_000);

  for (const route of ["auth5xx", "auth5xx-gzip"]) {
    test(`${route}: an auth error as 5xx is delivered, not retried — yet the target cools`, async () => {
      const b0 = rig.hits("b");
      const err = await rejection(claude(rig.anthropic(), route, { stream: true }));
      expect(err).toBeInstanceOf(Anthropic.InternalServerError);
      expect(errorExplained(err)).toMatchObject({ status: 503, attempts: 1 });
      // The client's SDK decoded the body gw passed through untouched (gzip included).
      expect((err as Error).message).toContain("auth_unavailable");
      expect(rig.hits("b")).toBe(b0);
      const next = await claude(rig.anthropic(), route);
      expect(next).toMatchObject({ status: 200, attempts: 1, target: "b/claude-b" });
    }, 30_000);
  }

  test("an auth error as 401 is still retried", async () => {
    const ok = await claude(rig.anthropic(), "auth4xx");
    expect(ok).toMatchObject({ status: 200, attempts: 2, target: "b/claude-b" });
  }, 30_000);

  // new-api #2899: one request retried on the same channel many times. Retries go to other
  // targets; with none left the error goes to the client after one attempt per target.
  test("retries never ask a target twice in one request: a lone 429 target once, two failing ones once each", async () => {
    for (const stream of [false, true]) {
      const [a0, b0] = [rig.hits("a"), rig.hits("b")];
      const alone = errorExplained(await rejection(claude(rig.anthropic(), "alone", { stream })));
      // Once it cools, the request still tries it (it is the one back soonest), once, and gets gw's 503 naming why.
      expect(alone).toMatchObject({ status: stream ? 503 : 429, attempts: 1, target: "a/claude-a~429" });
      expect(rig.hits("a") - a0).toBe(1);
      const twice = errorExplained(await rejection(claude(rig.anthropic(), "twice", { stream })));
      if (!stream) {
        expect(twice.attempts).toBe(2);
        expect([rig.hits("a") - a0 - 1, rig.hits("b") - b0]).toEqual([1, 1]);
      } else {
        // Both cool now: only the one back soonest is asked, and its failure gets gw's 503.
        expect(twice).toMatchObject({ status: 503, attempts: 1 });
        expect(rig.hits("a") - a0 - 1 + rig.hits("b") - b0).toBe(1);
      }
    }
  }, 30_000);
});
