// Signed thinking: a conversation carrying signed thinking blocks stays on its sticky target even
// while that target cools (no other provider can verify the signature), goes to the heaviest target
// when it has none, and a 400 "signature" is retried once on a route of the signature's family
// that can answer it.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signatureFor } from "../../../src/mock/signatures.ts";
import type { RequestRecord } from "../../../src/observe/record.ts";
import { answeredBy, claude, errorExplained, logRecords, type Rig, rejection, startRig, waitFor } from "../../helpers/resilience.ts";

const THINK = { thinking: { type: "enabled" as const, budget_tokens: 1024 }, max_tokens: 4096 };

/** A follow-up turn that carries the previous answer (with its signed thinking block). */
function followUp(previous: Anthropic.Message): Anthropic.MessageParam[] {
  return [
    { role: "user", content: "think about it" },
    { role: "assistant", content: previous.content as Anthropic.ContentBlockParam[] },
    { role: "user", content: "and now?" },
  ];
}

/** Messages with a crafted signed thinking block (prefix as CLIProxyAPI writes it). */
function signedWith(signature: string): Anthropic.MessageParam[] {
  return [
    { role: "user", content: "q" },
    { role: "assistant", content: [{ type: "thinking", thinking: "…", signature }, { type: "text", text: "a" }] },
    { role: "user", content: "q2" },
  ];
}

describe("signature lock (lb_max_target_retries = 0, so one failure cools one target)", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({
      mocks: ["a", "b"],
      global: "lb_max_target_retries = 0\nlb_transient_cooldown_ms = 600000",
      // One route per test: cooldowns are per route, so no test inherits another's cooling targets.
      routing: ["opus", "opus-json", "opus-stream", "opus-auth"]
        .map((r) => `"${r}" = [{ instance = "a", provider = "anthropic", model = "claude-a" }, { instance = "b", provider = "anthropic", model = "claude-b" }]`)
        .join("\n"),
    });
  });
  afterAll(() => rig.stop());

  test("the mock signs its thinking with the model group prefix", async () => {
    const r = await claude(rig.anthropic(), "opus", { params: THINK });
    const thinking = r.message.content.find((b) => b.type === "thinking");
    expect(thinking?.type === "thinking" && thinking.signature).toStartWith("claude#");
  }, 30_000);

  for (const stream of [false, true]) {
    test(`a signed conversation stays on its sticky target while it cools (${stream ? "streamed" : "not streamed"})`, async () => {
      const route = stream ? "opus-stream" : "opus-json";
      const session = { "x-claude-code-session-id": crypto.randomUUID() };
      const first = await claude(rig.anthropic(), route, { headers: session, params: THINK, stream });
      const home = first.target;
      const homeName = answeredBy(first.text)!;
      const other = homeName === "a" ? "b/claude-b" : "a/claude-a";

      // The home target fails once (a transient error keeps the session sticky) and cools.
      const err = await rejection(claude(rig.anthropic(), route, { headers: { ...session, "x-mock-fault": "500" } }));
      expect(errorExplained(err)).toMatchObject({ status: 500, attempts: 1, target: home });

      const h0 = rig.hits(homeName);
      const locked = await claude(rig.anthropic(), route, { headers: session, params: { ...THINK, messages: followUp(first.message) }, stream });
      expect(locked).toMatchObject({ status: 200, attempts: 1, target: home });
      expect(rig.hits(homeName)).toBe(h0 + 1);
      const seen = rig.mocks[homeName]!.stats(1).last[0]!.body as { messages: { content: unknown }[] };
      expect(JSON.stringify(seen.messages[1]!.content)).toContain("claude#");
      const [rec] = await logRecords(rig.dir, 1, (r) => r.request.model === route && r.request.signed);
      expect(rec!.routing.sticky).toBe("lock");
      expect(rec!.routing.attempts).toMatchObject([{ target: home, pick: "signature-lock", status: 200 }]);

      // Control: the same session without a signature leaves the cooling target.
      await rejection(claude(rig.anthropic(), route, { headers: { ...session, "x-mock-fault": "500" } }));
      const free = await claude(rig.anthropic(), route, { headers: session, stream });
      expect(free).toMatchObject({ status: 200, target: other });
    }, 30_000);
  }

  test("an auth failure forgets the session's target: the next signed turn goes to the heaviest available one", async () => {
    const session = { "x-claude-code-session-id": crypto.randomUUID() };
    const first = await claude(rig.anthropic(), "opus-auth", { headers: session, params: THINK });
    const other = answeredBy(first.text) === "a" ? "b/claude-b" : "a/claude-a";
    const err = await rejection(claude(rig.anthropic(), "opus-auth", { headers: { ...session, "x-mock-fault": "401" } }));
    expect(errorExplained(err)).toMatchObject({ status: 401, attempts: 1, target: first.target });
    const next = await claude(rig.anthropic(), "opus-auth", { headers: session, params: { ...THINK, messages: followUp(first.message) } });
    expect(next).toMatchObject({ status: 200, attempts: 1, target: other });
  }, 30_000);
});

describe("no sticky target, and the 400 signature retry", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({
      mocks: ["a", "b"],
      global: "lb_signature_cooldown_ms = 600000",
      routing: [
        // The first route whose every target serves Claude: where claude# signatures are retried.
        `"claude-home" = [{ instance = "b", provider = "anthropic", model = "claude-home" }]`,
        `"heavy" = [{ instance = "a", provider = "anthropic", model = "claude-a", weight = 2 }, { instance = "b", provider = "anthropic", model = "claude-b", weight = 1 }]`,
        `"gem" = [{ instance = "a", provider = "anthropic", model = "gemini-3-pro~sig" }]`,
        `"gpt-home" = [{ instance = "b", provider = "anthropic", model = "gpt-5" }]`,
      ].join("\n"),
    });
  });
  afterAll(() => rig.stop());

  test("signed, no session: always the highest-weight target", async () => {
    for (let i = 0; i < 20; i++) {
      const r = await claude(rig.anthropic(), "heavy", { params: { messages: signedWith("claude#c2lnbmVk") }, stream: i % 2 === 0 });
      expect(r.target).toBe("a/claude-a");
    }
  }, 30_000);

  for (const stream of [false, true]) {
    test(`a 400 "signature" is retried on the signature's family route; the client never sees it (${stream ? "streamed" : "not streamed"})`, async () => {
      const [a0, b0] = [rig.hits("a"), rig.hits("b")];
      const r = await claude(rig.anthropic(), "gem", { params: { messages: signedWith("claude#c2lnbmVk") }, stream });
      expect(r).toMatchObject({ status: 200, target: "b/claude-home", route: "gem => claude-home (signature fallback)", attempts: 2 });
      expect(answeredBy(r.text)).toBe("b");
      expect(rig.hits("a")).toBe(a0 + 1);
      expect(rig.mocks.a!.stats(1).last[0]!.status).toBe(400);
      expect(rig.hits("b")).toBe(b0 + 1);
      expect((rig.mocks.b!.stats(1).last[0]!.body as { model: string }).model).toBe("claude-home");
      const [rec] = await logRecords(rig.dir, 1, (x) => x.request.model === "gem" && x.routing.signature_fallback !== undefined && (x.request.stream ?? false) === stream);
      expect(rec!.routing.signature_fallback).toBe("claude-home");
      expect(rec!.response.status).toBe(200);
    }, 30_000);
  }

  test("OpenAI Responses: encrypted reasoning signed gpt#… goes to the gpt route after the 400", async () => {
    const input = [
      { role: "user" as const, content: "q" },
      { type: "reasoning" as const, id: "rs_1", summary: [], encrypted_content: "gpt#ZW5jcnlwdGVk" },
      { role: "user" as const, content: "q2" },
    ];
    const { data, response } = await rig.openai().responses.create({ model: "gem", input }).withResponse();
    expect(data.output_text).toContain("instance b, model gpt-5");
    expect(response.headers.get("x-gw-route")).toBe("gem => gpt-home (signature fallback)");
    expect(response.headers.get("x-gw-target")).toBe("b/gpt-5");
  }, 30_000);

  test("no route of the signature's family: the 400 reaches the client", async () => {
    const err = await rejection(claude(rig.anthropic(), "gem", { params: { messages: signedWith("gemini#c2lnbmVk") } }));
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as Error).message).toContain("signature");
  }, 30_000);

  test("without a signed block the 400 is the client's own: delivered as is", async () => {
    const b0 = rig.hits("b");
    const err = await rejection(claude(rig.anthropic(), "gem"));
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(errorExplained(err).attempts).toBe(1);
    expect(rig.hits("b")).toBe(b0);
  }, 30_000);
});

for (const stream of [false, true]) {
  describe(`the signature's family route fails too, then cools (${stream ? "streamed" : "not streamed"})`, () => {
    let rig: Rig;
    beforeAll(() => {
      rig = startRig({
        mocks: ["a", "b"],
        routing: [
          // The Claude route is down (its instance overloaded; in life, dead like the one that signed).
          `"claude-down" = [{ instance = "b", provider = "anthropic", model = "claude-home~529" }]`,
          `"gem" = [{ instance = "a", provider = "anthropic", model = "gemini-3-pro~sig" }]`,
        ].join("\n"),
      });
    });
    afterAll(() => rig.stop());
    const signed = () => rejection(claude(rig.anthropic(), "gem", { params: { messages: signedWith("claude#c2lnbmVk") }, stream }));

    test("the client gets the rejected signature, which it can heal (Claude Code strips its thinking and sends again), not the fallback's failure", async () => {
      const err = await signed();
      expect(err).toBeInstanceOf(Anthropic.BadRequestError);
      expect((err as Error).message).toContain("Invalid `signature` in `thinking` block");
      const [rec] = await logRecords(rig.dir, 1, (x) => x.request.model === "gem");
      expect([rec!.response.status, rec!.routing.signature_fallback]).toEqual([400, "claude-down"]);
      // The 400 delivered is gem's: gem served it (the log's, the metrics' and the status page's
      // route); the fallback's attempt names its own route.
      expect(rec!.routing.route).toBe("gem");
      expect(rec!.routing.attempts.map((a) => [a.route, a.instance, a.status, a.class])).toEqual([[undefined, "a", 400, "signature"], ["claude-down", "b", 529, "transient"]]);
      expect(errorExplained(err).route).toBe("gem (its signature fallback to claude-down failed)");
    }, 30_000);

    test("the next one, while claude-down cools: no route of the family can answer, so the 400 comes at once, without an attempt there", async () => {
      const b0 = rig.hits("b");
      const err = await signed();
      expect((err as Error).message).toContain("Invalid `signature` in `thinking` block");
      expect(errorExplained(err)).toMatchObject({ status: 400, attempts: 1, route: "gem (its signature fallback to claude-down not tried: no route of its family can answer now)" });
      expect(rig.hits("b")).toBe(b0);
      const recs = await logRecords(rig.dir, 2, (x) => x.request.model === "gem");
      const rec = recs[recs.length - 1]!;
      // Recorded as a fallback that failed, with no attempt on its route: gem served the 400.
      expect([rec.response.status, rec.routing.route, rec.routing.signature_fallback]).toEqual([400, "gem", "claude-down"]);
      expect(rec.routing.attempts.map((a) => [a.route, a.instance, a.status, a.class])).toEqual([[undefined, "a", 400, "signature"]]);
    }, 30_000);
  });
}

describe("the family's first route cannot answer: the second answers, in one fallback attempt", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({
      mocks: ["a", "b"],
      dead: ["d"],
      routing: [
        // Both serve Claude; the first is on d, where nothing listens. The mocks verify signatures
        // as a provider does (sig=foreign): only b's own pass on b.
        `"claude-down" = [{ instance = "d", provider = "anthropic", model = "claude-down" }]`,
        `"claude-home" = [{ instance = "b", provider = "anthropic", model = "claude-home~sig=foreign" }]`,
        `"gem" = [{ instance = "a", provider = "anthropic", model = "gemini-3-pro~sig=foreign" }]`,
        // Tries d first (its higher priority), then a, which rejects b's signature. One route per
        // test below: after the first, both of a route's targets cool for a signed request (d
        // unreachable, a for its signature), and only the one back soonest would be tried.
        ...["gem-d", "gem-d-streamed", "gem-d-again"].map((r) => `"${r}" = [{ instance = "d", provider = "anthropic", model = "gemini-3-pro", priority = 1 }, { instance = "a", provider = "anthropic", model = "gemini-3-pro~sig=foreign" }]`),
      ].join("\n"),
    });
  });
  afterAll(() => rig.stop());
  /** A conversation whose thinking b signed (on claude-home): a rejects it, b verifies it. */
  const FROM_B = signedWith(signatureFor("b", "claude-home"));
  const attempts = (r: RequestRecord) => r.routing.attempts.map((a) => [a.route, a.instance, a.status, a.class]);

  for (const stream of [false, true]) {
    test(`d is down for this request (it could not reach d): claude-down is passed over, though nothing cools there (${stream ? "streamed" : "not streamed"})`, async () => {
      const b0 = rig.hits("b");
      const route = stream ? "gem-d-streamed" : "gem-d";
      const r = await claude(rig.anthropic(), route, { params: { messages: FROM_B }, stream });
      expect(r).toMatchObject({ status: 200, target: "b/claude-home~sig=foreign", route: `${route} => claude-home (signature fallback)`, attempts: 3 });
      expect(rig.hits("b")).toBe(b0 + 1);
      const recs = await logRecords(rig.dir, 1, (x) => x.request.model === route);
      expect(attempts(recs[0]!)).toEqual([[route, "d", 0, "transient"], [route, "a", 400, "signature"], [undefined, "b", 200, "ok"]]);
    }, 30_000);
  }

  test("the same session's next turn, its route now out for it (d cooling, a cooling for its signature): the one back soonest fails, and its family's route answers — not gw's 503", async () => {
    const first = await claude(rig.anthropic(), "gem-d-again", { params: { messages: FROM_B } });
    expect(first).toMatchObject({ status: 200, route: "gem-d-again => claude-home (signature fallback)" });
    const b0 = rig.hits("b");
    const next = await claude(rig.anthropic(), "gem-d-again", { params: { messages: FROM_B } });
    expect(next).toMatchObject({ status: 200, target: "b/claude-home~sig=foreign", route: "gem-d-again => claude-home (signature fallback)", attempts: 2 });
    expect(rig.hits("b")).toBe(b0 + 1);
  }, 30_000);

  test("claude-down's only target cools (d refused an earlier request): the signed request goes on to claude-home", async () => {
    // An unsigned request to claude-down finds d dead: its target cools.
    await rejection(claude(rig.anthropic(), "claude-down"));
    const b0 = rig.hits("b");
    const r = await claude(rig.anthropic(), "gem", { params: { messages: FROM_B } });
    expect(r).toMatchObject({ status: 200, target: "b/claude-home~sig=foreign", route: "gem => claude-home (signature fallback)", attempts: 2 });
    expect(rig.hits("b")).toBe(b0 + 1);
    const [rec] = await logRecords(rig.dir, 1, (x) => x.request.model === "gem");
    expect(attempts(rec!)).toEqual([["gem", "a", 400, "signature"], [undefined, "b", 200, "ok"]]);
  }, 30_000);
});

describe("the family's first route is on an instance known down, though nothing cools there and this request never met it", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({
      mocks: ["a", "b"],
      dead: ["e", "p"],
      global: "lb_transient_cooldown_ms = 200",
      routing: [
        `"claude-lost" = [{ instance = "e", provider = "anthropic", model = "claude-lost" }]`,
        `"claude-home" = [{ instance = "b", provider = "anthropic", model = "claude-home~sig=foreign" }]`,
        `"gpt-probed" = [{ instance = "p", provider = "anthropic", model = "gpt-probed" }]`,
        `"gpt-home" = [{ instance = "b", provider = "anthropic", model = "gpt-home~sig=foreign" }]`,
        `"gem" = [{ instance = "a", provider = "anthropic", model = "gemini-3-pro~sig=foreign" }]`,
        // Where a request finds p dead: its target cools, and the probe at the cooldown's end fails.
        `"p-other" = [{ instance = "p", provider = "anthropic", model = "other" }]`,
      ].join("\n"),
    });
  });
  afterAll(() => rig.stop());

  test("e, which the supervisor called lost (a crash loop, a failed start), is passed over: claude-home answers", async () => {
    rig.gw.availability("e", "lost"); // what `gw up`'s supervisor tells its gateway (supervisor/instance.ts)
    const r = await claude(rig.anthropic(), "gem", { params: { messages: signedWith(signatureFor("b", "claude-home")) } });
    expect(r).toMatchObject({ status: 200, target: "b/claude-home~sig=foreign", route: "gem => claude-home (signature fallback)", attempts: 2 });
  }, 30_000);

  test("p, whose last probe failed, is passed over: gpt-home answers a gpt# signature", async () => {
    await rejection(claude(rig.anthropic(), "p-other"));
    await waitFor(() => rig.gw.instancesDown().includes("p"), 10_000, "p's probe to fail");
    const r = await claude(rig.anthropic(), "gem", { params: { messages: signedWith(signatureFor("b", "gpt-home")) } });
    expect(r).toMatchObject({ status: 200, target: "b/gpt-home~sig=foreign", route: "gem => gpt-home (signature fallback)", attempts: 2 });
  }, 30_000);
});

describe("the family's route cools for signed requests only: it rejected another conversation's signature", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({
      mocks: ["a", "b"],
      routing: [
        `"claude-home" = [{ instance = "b", provider = "anthropic", model = "claude-home~sig=foreign" }]`,
        `"gem" = [{ instance = "a", provider = "anthropic", model = "gemini-3-pro~sig=foreign" }]`,
      ].join("\n"),
    });
  });
  afterAll(() => rig.stop());

  test("a conversation b signed still gets its one go on claude-home (the attempt loop's last resort), and b verifies it", async () => {
    // b rejects a signature it did not make (c's): its claude-home target cools for signed requests.
    await rejection(claude(rig.anthropic(), "claude-home", { params: { messages: signedWith(signatureFor("c", "claude-home")) } }));
    expect(rig.gw.coolingList(Date.now()).map((c) => [c.route, c.target, c.kind])).toEqual([["claude-home", "b/claude-home~sig=foreign", "signature"]]);
    const r = await claude(rig.anthropic(), "gem", { params: { messages: signedWith(signatureFor("b", "claude-home")) } });
    expect(r).toMatchObject({ status: 200, target: "b/claude-home~sig=foreign", route: "gem => claude-home (signature fallback)", attempts: 2 });
  }, 30_000);
});

describe("an instance whose probe failed, then came back", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({
      mocks: ["a", "p"],
      global: "lb_transient_cooldown_ms = 200",
      // The next probe after a failed one is far off (as after a crash loop's failures: up to a minute).
      gateway: { probeTiming: { timeoutMs: 2_000, backoffMs: 600_000, maxBackoffMs: 600_000 } },
      routing: [
        `"gpt-p" = [{ instance = "p", provider = "anthropic", model = "gpt-p~sig=foreign" }]`,
        `"gem" = [{ instance = "a", provider = "anthropic", model = "gemini-3-pro~sig=foreign" }]`,
        // Where a request finds p dead: its target cools, and the probe at the cooldown's end fails.
        `"p-other" = [{ instance = "p", provider = "anthropic", model = "other" }]`,
      ].join("\n"),
    });
  });
  afterAll(() => rig.stop());
  /** p dies, a request finds it dead, the probe at its target's cooldown's end fails; then p runs again. */
  const downThenBack = async () => {
    await rig.kill("p");
    await rejection(claude(rig.anthropic(), "p-other"));
    await waitFor(() => rig.gw.instancesDown().includes("p"), 10_000, "p's probe to fail");
    rig.revive("p");
  };
  /** A gpt# signature p made, rejected on gem: its fallback goes to gpt-p, where p verifies it. */
  const fallsBackToP = async () => {
    const r = await claude(rig.anthropic(), "gem", { params: { messages: signedWith(signatureFor("p", "gpt-p")) } });
    expect(r).toMatchObject({ status: 200, target: "p/gpt-p~sig=foreign", route: "gem => gpt-p (signature fallback)", attempts: 2 });
  };

  test("once the supervisor called it ready (respawned, answering), it is not known down: a gpt# signature p made gets its fallback on gpt-p", async () => {
    await downThenBack();
    // What `gw up`'s supervisor tells its gateway when p is respawned and answers (supervisor/instance.ts).
    rig.gw.availability("p", "away");
    rig.gw.availability("p", "ready");
    expect(rig.gw.instancesDown()).toEqual([]);
    await fallsBackToP();
  }, 30_000);

  test("is not known down once a request got its answer (an instance gw does not run has no supervisor to say ready)", async () => {
    await downThenBack();
    // p-other's only target cools until the next probe, far off: the attempt loop still tries it, last.
    expect(await claude(rig.anthropic(), "p-other")).toMatchObject({ status: 200, target: "p/other" });
    expect(rig.gw.instancesDown()).toEqual([]);
    await fallsBackToP();
  }, 30_000);
});

describe("an instance this request waited for in vain (still not back when its attempt's deadline came)", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({
      mocks: ["a", "w"],
      global: "lb_first_byte_timeout_ms = 500",
      routing: [
        `"claude-w" = [{ instance = "w", provider = "anthropic", model = "claude-w" }]`,
        // w first (its priority); a rejects w's signatures.
        `"gem-w" = [{ instance = "w", provider = "anthropic", model = "gemini-3-pro", priority = 1 }, { instance = "a", provider = "anthropic", model = "gemini-3-pro~sig=foreign" }]`,
      ].join("\n"),
    });
  });
  afterAll(() => rig.stop());

  test("counts as down, not on its way back: the 400 comes without a second wait for it", async () => {
    const session = { "x-claude-code-session-id": crypto.randomUUID() };
    expect(await claude(rig.anthropic(), "gem-w", { headers: session })).toMatchObject({ status: 200, target: "w/gemini-3-pro" });
    rig.gw.availability("w", "away"); // a restart that takes longer than the attempt's deadline
    // The signature lock waits for w (the session's target) until the deadline; a rejects the signature.
    const err = await rejection(claude(rig.anthropic(), "gem-w", { headers: session, params: { messages: signedWith(signatureFor("w", "claude-w")) } }));
    expect(errorExplained(err)).toMatchObject({ status: 400, attempts: 2, route: "gem-w (its signature fallback to claude-w not tried: no route of its family can answer now)" });
    const [rec] = await logRecords(rig.dir, 1, (x) => x.request.model === "gem-w" && x.response.status === 400);
    expect(rec!.routing.attempts.map((a) => [a.instance, a.status, a.class])).toEqual([["w", 0, "transient"], ["a", 400, "signature"]]);
  }, 30_000);
});
