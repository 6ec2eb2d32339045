// The signature fallback's own attempt loop: the route it chose is tried as the normal loop tries
// a route — a target on an instance known down (lost, its probe failed, or this request could not
// reach it or waited for it in vain) comes after every other one, as fallback-choice.ts judged it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signatureFor } from "../../../src/mock/signatures.ts";
import type { RequestRecord } from "../../../src/observe/record.ts";
import { parseExposition } from "../../helpers/observe.ts";
import { claude, errorExplained, type Rig, rejection, startRig, withRecord } from "../../helpers/resilience.ts";

/** Messages with a thinking block `instance` signed (on a Claude model): only it verifies it. */
function signedBy(instance: string) {
  return [
    { role: "user" as const, content: "q" },
    { role: "assistant" as const, content: [{ type: "thinking" as const, thinking: "…", signature: signatureFor(instance, "claude-home") }, { type: "text" as const, text: "a" }] },
    { role: "user" as const, content: "q2" },
  ];
}

const attempts = (r: RequestRecord) => r.routing.attempts.map((a) => [a.route, a.instance, a.status, a.class]);

/** What `send` (one request to `model`) returned, and its record. */
const recordOf = <T>(rig: Rig, model: string, send: () => Promise<T>) => withRecord(rig.dir, model, send);

/** gw_attempts_total by route, target and outcome. */
async function attemptMetrics(rig: Rig): Promise<Map<string, number>> {
  return parseExposition(await (await fetch(`${rig.gw.url}/metrics`)).text()).samples;
}

describe("the fallback route's own loop passes over a target on an instance known down", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({
      mocks: ["a", "b"],
      dead: ["d"],
      routing: [
        // The fallback route would try its heavier target first: on d, where nothing listens.
        `"claude-d" = [{ instance = "d", provider = "anthropic", model = "claude-d", weight = 2 }, { instance = "b", provider = "anthropic", model = "claude-home~sig=foreign", weight = 1 }]`,
        // d first (its priority), then a, which rejects b's signature. One route per test below:
        // after the first, both of a route's targets cool for a signed request.
        ...["gem-d", "gem-d-streamed"].map((r) => `"${r}" = [{ instance = "d", provider = "anthropic", model = "gemini-3-pro", priority = 1 }, { instance = "a", provider = "anthropic", model = "gemini-3-pro~sig=foreign" }]`),
      ].join("\n"),
    });
  });
  afterAll(() => rig.stop());

  for (const stream of [false, true]) {
    test(`d, which this request could not reach, is not tried again on the fallback route: b answers at once (${stream ? "streamed" : "not streamed"})`, async () => {
      const m0 = await attemptMetrics(rig);
      const route = stream ? "gem-d-streamed" : "gem-d";
      const [r, rec] = await recordOf(rig, route, () => claude(rig.anthropic(), route, { params: { messages: signedBy("b") }, stream }));
      expect(r).toMatchObject({ status: 200, target: "b/claude-home~sig=foreign", route: `${route} => claude-d (signature fallback)`, attempts: 3 });
      expect(attempts(rec)).toEqual([[route, "d", 0, "transient"], [route, "a", 400, "signature"], [undefined, "b", 200, "ok"]]);
      expect(rec.routing).toMatchObject({ route: "claude-d", signature_fallback: "claude-d" });
      const m1 = await attemptMetrics(rig);
      const delta = (k: string) => (m1.get(k) ?? 0) - (m0.get(k) ?? 0);
      expect(delta('gw_attempts_total{route="claude-d",target="b/claude-home~sig=foreign",outcome="ok"}')).toBe(1);
      expect([...m1.keys()].filter((k) => k.startsWith('gw_attempts_total{route="claude-d",target="d/'))).toEqual([]);
    }, 30_000);
  }

});

describe("the fallback route's own loop passes over a target on an instance the supervisor called lost", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({
      mocks: ["a", "b"],
      dead: ["e"],
      routing: [
        `"claude-e" = [{ instance = "e", provider = "anthropic", model = "claude-e", weight = 2 }, { instance = "b", provider = "anthropic", model = "claude-home~sig=foreign", weight = 1 }]`,
        `"gem" = [{ instance = "a", provider = "anthropic", model = "gemini-3-pro~sig=foreign" }]`,
      ].join("\n"),
    });
  });
  afterAll(() => rig.stop());

  test("e (a crash loop, a failed start) is not tried: b answers at once", async () => {
    rig.gw.availability("e", "lost"); // what `gw up`'s supervisor tells its gateway (supervisor/instance.ts)
    const [r, rec] = await recordOf(rig, "gem", () => claude(rig.anthropic(), "gem", { params: { messages: signedBy("b") } }));
    expect(r).toMatchObject({ status: 200, target: "b/claude-home~sig=foreign", route: "gem => claude-e (signature fallback)", attempts: 2 });
    expect(attempts(rec)).toEqual([["gem", "a", 400, "signature"], [undefined, "b", 200, "ok"]]);
  }, 30_000);
});

describe("the fallback route's own loop passes over an instance this request waited for in vain", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({
      mocks: ["a", "b", "w"],
      global: "lb_first_byte_timeout_ms = 500",
      routing: [
        // w is heavier; b's target cools for signed requests (it rejected another conversation's signature).
        `"claude-wb" = [{ instance = "w", provider = "anthropic", model = "claude-w", weight = 2 }, { instance = "b", provider = "anthropic", model = "claude-home~sig=foreign", weight = 1 }]`,
        // w first (its priority); a rejects b's signatures.
        `"gem-w" = [{ instance = "w", provider = "anthropic", model = "gemini-3-pro", priority = 1 }, { instance = "a", provider = "anthropic", model = "gemini-3-pro~sig=foreign" }]`,
      ].join("\n"),
    });
  });
  afterAll(() => rig.stop());

  test("w is not waited for a second time: b, cooling for signed requests only, answers on the fallback's first attempt", async () => {
    const session = { "x-claude-code-session-id": crypto.randomUUID() };
    const [first] = await recordOf(rig, "gem-w", () => claude(rig.anthropic(), "gem-w", { headers: session }));
    expect(first).toMatchObject({ status: 200, target: "w/gemini-3-pro" });
    rig.gw.availability("w", "away"); // a restart that takes longer than an attempt's deadline
    // b rejects a signature c made: its claude-wb target cools for signed requests (w, away, is passed over).
    await rejection(claude(rig.anthropic(), "claude-wb", { params: { messages: signedBy("c") } }));
    expect(rig.gw.coolingList(Date.now()).map((c) => [c.route, c.target, c.kind])).toEqual([["claude-wb", "b/claude-home~sig=foreign", "signature"]]);
    // The signature lock waits for w until the deadline; a rejects the signature; claude-wb is the fallback.
    const [r, rec] = await recordOf(rig, "gem-w", () => claude(rig.anthropic(), "gem-w", { headers: session, params: { messages: signedBy("b") } }));
    expect(r).toMatchObject({ status: 200, target: "b/claude-home~sig=foreign", route: "gem-w => claude-wb (signature fallback)", attempts: 3 });
    expect(attempts(rec)).toEqual([["gem-w", "w", 0, "transient"], ["gem-w", "a", 400, "signature"], [undefined, "b", 200, "ok"]]);
  }, 30_000);
});

describe("a family route whose only target is the instance and upstream model that just rejected the signature", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({
      mocks: ["a", "b"],
      routing: [
        // Two names for one upstream call: a's claude-a (a verifies only what a signed).
        `"opus" = [{ instance = "a", provider = "anthropic", model = "claude-a~sig=foreign" }]`,
        `"opus-alias" = [{ instance = "a", provider = "anthropic", model = "claude-a~sig=foreign" }]`,
        `"claude-home" = [{ instance = "b", provider = "anthropic", model = "claude-home~sig=foreign" }]`,
      ].join("\n"),
    });
  });
  afterAll(() => rig.stop());

  test("is passed over: the next route of the family answers, in one fallback attempt", async () => {
    const a0 = rig.hits("a");
    const [r, rec] = await recordOf(rig, "opus", () => claude(rig.anthropic(), "opus", { params: { messages: signedBy("b") } }));
    expect(r).toMatchObject({ status: 200, target: "b/claude-home~sig=foreign", route: "opus => claude-home (signature fallback)", attempts: 2 });
    expect(rig.hits("a")).toBe(a0 + 1);
    expect(attempts(rec)).toEqual([["opus", "a", 400, "signature"], [undefined, "b", 200, "ok"]]);
  }, 30_000);
});

describe("a family whose only other route is the instance and upstream model that just rejected the signature", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({
      mocks: ["a"],
      routing: [
        `"opus" = [{ instance = "a", provider = "anthropic", model = "claude-a~sig=foreign" }]`,
        `"opus-alias" = [{ instance = "a", provider = "anthropic", model = "claude-a~sig=foreign" }]`,
      ].join("\n"),
    });
  });
  afterAll(() => rig.stop());

  test("the 400 comes at once: no second call to the upstream that rejected it", async () => {
    const m0 = await attemptMetrics(rig);
    const [err, rec] = await recordOf(rig, "opus", () => rejection(claude(rig.anthropic(), "opus", { params: { messages: signedBy("b") } })));
    expect(errorExplained(err)).toMatchObject({ status: 400, attempts: 1, route: "opus (its signature fallback to opus-alias not tried: no route of its family can answer now)" });
    expect(rig.hits("a")).toBe(1);
    expect(attempts(rec)).toEqual([[undefined, "a", 400, "signature"]]); // the served route: not named
    expect([rec.response.status, rec.routing.route, rec.routing.signature_fallback]).toEqual([400, "opus", "opus-alias"]);
    const m1 = await attemptMetrics(rig);
    expect([...m1.keys()].filter((k) => k.startsWith('gw_attempts_total{route="opus-alias"') && m1.get(k) !== m0.get(k))).toEqual([]);
  }, 30_000);
});
