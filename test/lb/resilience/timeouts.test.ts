// gw's own clocks: lb_first_byte_timeout_ms (and a target's first_byte_timeout_ms, which beats
// it) fail over before any byte; lb_idle_timeout_ms ends a stream that went silent with a
// protocol-correct error event.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { HOUR, stepClock } from "../../helpers/clock.ts";
import { answeredBy, claude, errorExplained, HI, logRecords, type Rig, rejection, startRig, waitFor } from "../../helpers/resilience.ts";

// The global first-byte limit is short; every target expected to answer gets a generous own limit,
// so a slow machine cannot fail the healthy path.
const PATIENT = "first_byte_timeout_ms = 60000";
let rig: Rig;
beforeAll(() => {
  rig = startRig({
    mocks: ["a", "b"],
    global: "lb_first_byte_timeout_ms = 400\nlb_idle_timeout_ms = 1500\nlb_transient_cooldown_ms = 600000",
    routing: [
      `"hangs" = [{ instance = "a", provider = "anthropic", model = "claude-a~hang", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b", ${PATIENT} }]`,
      `"slow" = [{ instance = "a", provider = "anthropic", model = "claude-a~slow-first=5000", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b", ${PATIENT} }]`,
      `"patient" = [{ instance = "a", provider = "anthropic", model = "claude-a~slow-first=1500", priority = 1, ${PATIENT} }, { instance = "b", provider = "anthropic", model = "claude-b", ${PATIENT} }]`,
      `"patient-step" = [{ instance = "a", provider = "anthropic", model = "claude-a~slow-first=1500", ${PATIENT} }]`,
      `"stuck" = [{ instance = "a", provider = "anthropic", model = "claude-a~hang" }, { instance = "b", provider = "anthropic", model = "claude-b~hang" }]`,
      `"stalls" = [{ instance = "a", provider = "anthropic", model = "claude-a~gap=5000~events=4", ${PATIENT} }]`,
    ].join("\n"),
  });
});
afterAll(() => rig.stop());

describe("first-byte timeout (lb_first_byte_timeout_ms)", () => {
  for (const route of ["hangs", "slow"]) {
    test(`${route}: the stalled target is abandoned, the other answers, streamed or not`, async () => {
      for (const stream of [false, true]) {
        const ok = await claude(rig.anthropic(), route, { stream });
        // The second call finds the stalled target cooling.
        expect(ok).toMatchObject({ status: 200, target: "b/claude-b", attempts: stream ? 1 : 2 });
        expect(answeredBy(ok.text)).toBe("b");
      }
      await waitFor(() => rig.mocks.a!.stats().inFlight === 0, 10_000, "the stalled upstream request to be aborted");
    }, 30_000);
  }

  test("a target's own first_byte_timeout_ms beats the global one", async () => {
    const ok = await claude(rig.anthropic(), "patient", { stream: true });
    expect(ok).toMatchObject({ status: 200, target: "a/claude-a~slow-first=1500", attempts: 1 });
    expect(answeredBy(ok.text)).toBe("a");
  }, 30_000);

  test("every target stalled: 504 in the client's dialect after trying each", async () => {
    const err = await rejection(claude(rig.anthropic(), "stuck"));
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(errorExplained(err)).toMatchObject({ status: 504, attempts: 2 });
    // Anthropic's error shape, so the SDK could read it: {"type":"error","error":{…}}.
    expect((err as { error?: { type?: string } }).error?.type).toBe("error");
    expect((err as { error?: { error?: { type?: string } } }).error?.error?.type).toBe("timeout_error"); // Anthropic's name for a 504
  }, 30_000);
});

describe("idle timeout (lb_idle_timeout_ms)", () => {
  test("Anthropic: a silent stream ends with an error the SDK raises", async () => {
    const err = await rejection(rig.anthropic().messages.stream({ model: "stalls", max_tokens: 100, messages: HI }).finalMessage());
    expect(err).toBeInstanceOf(Anthropic.APIError);
    await waitFor(() => rig.mocks.a!.stats().inFlight === 0, 10_000, "the silent upstream stream to be cancelled");
  }, 30_000);

  test("OpenAI: the same as a `data: {\"error\": …}` event", async () => {
    const res = await fetch(`${rig.gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "stalls", stream: true, messages: HI }),
    });
    const text = await res.text();
    const last = text.trim().split(/\n\n+/).pop()!;
    expect(last).toStartWith("data: {");
    expect(JSON.parse(last.slice(6)).error.message).toContain("1500 ms");
    expect(text).not.toContain("[DONE]");

    const stream = await rig.openai().chat.completions.create({ model: "stalls", stream: true, messages: HI });
    const err = await rejection((async () => { for await (const _ of stream); })());
    expect(err).toBeInstanceOf(OpenAI.APIError);
  }, 30_000);
});

// NTP stepping the clock after a laptop's sleep or a VM's pause: gw's timeouts are durations and
// must neither fire at once when the wall clock jumps ahead nor wait hours more when it goes back.
describe("the wall clock steps while a request waits", () => {
  const inFlightAt = (name: string) => waitFor(() => rig.mocks[name]!.stats().inFlight === 1, 10_000, `the request to reach ${name}`);

  test("a day forward while the first byte is awaited: the slow target still answers (no timeout, no failover)", async () => {
    const answer = claude(rig.anthropic(), "patient-step", { stream: true });
    await inFlightAt("a");
    const restore = stepClock(24 * HOUR);
    try {
      expect(await answer).toMatchObject({ status: 200, target: "a/claude-a~slow-first=1500", attempts: 1 });
      // Its durations in the request log are what it took (~1.5 s), not a day.
      const [rec] = await logRecords(rig.dir, 1, (r) => r.routing.route === "patient-step");
      for (const ms of [rec!.response.ms, rec!.response.ttfb_ms!, rec!.routing.attempts[0]!.ms]) expect(ms).toBeWithin(1000, 60_000);
    } finally {
      restore();
    }
  }, 30_000);

  test("two hours back while every target hangs: gw's answer after the first-byte timeout, not hours later", async () => {
    const answer = rejection(claude(rig.anthropic(), "stuck"));
    // On a or b, whichever is back sooner.
    await waitFor(() => rig.mocks.a!.stats().inFlight + rig.mocks.b!.stats().inFlight === 1, 10_000, "the request to reach a or b");
    const restore = stepClock(-2 * HOUR);
    try {
      // Both targets cool since the test above: only the one back soonest is asked, and its
      // timeout gets gw's 503 saying when they are back.
      expect(errorExplained(await answer)).toMatchObject({ status: 503, attempts: 1 });
    } finally {
      restore();
    }
  }, 30_000);

  test("two hours back during a stream's silence: the idle timeout still ends it", async () => {
    const res = await fetch(`${rig.gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "stalls", stream: true, messages: HI }),
    });
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes('"content"')) text += new TextDecoder().decode((await reader.read()).value);
    const restore = stepClock(-2 * HOUR);
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
    } finally {
      restore();
    }
    // Without the idle timeout the stream would have gone on after the mock's 5 s gap, to [DONE].
    expect(text).toContain("no event for 1500 ms");
    expect(text).not.toContain("[DONE]");
  }, 30_000);
});
