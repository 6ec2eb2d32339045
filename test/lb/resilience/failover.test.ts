// Failover until the first byte, seen through the SDKs: a 429, 503, 401, refused connection or
// first-byte timeout on one target gives the client a 200 from another, streamed or not, and the
// failing target is skipped while it cools.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { answeredBy, brokenBodyUpstream, chat, claude, gemini, geminiClient, idleClosingUpstream, type Rig, startRig, waitFor } from "../../helpers/resilience.ts";

// Each case gets its own route (cooldowns are per route and target): the failing target sits in
// a higher priority tier, so it is always tried first while it is healthy.
const FAULTS = {
  "429": { instance: "a", model: "claude-a~429", status: 429 },
  "503": { instance: "a", model: "claude-a~503", status: 503 },
  "401": { instance: "a", model: "claude-a~401", status: 401 },
  refused: { instance: "x", model: "claude-x", status: undefined },
  "first-byte timeout": { instance: "a", model: "claude-a~hang", status: undefined },
} as const;
type Case = keyof typeof FAULTS;
const DIALECTS = ["anthropic", "openai", "gemini"] as const;
const routeName = (c: Case, d: string, stream: boolean) => `${c.replace(/\W/g, "-")}.${d}.${stream ? "stream" : "json"}`;

let rig: Rig;

beforeAll(() => {
  const routes: string[] = [];
  for (const c of Object.keys(FAULTS) as Case[]) {
    const f = FAULTS[c];
    const fbt = c === "first-byte timeout" ? ", first_byte_timeout_ms = 400" : "";
    for (const d of DIALECTS) {
      for (const stream of [false, true]) {
        if (c === "refused") routes.push(`"dies.${d}.${stream ? "stream" : "json"}" = [{ instance = "a", provider = "anthropic", model = "claude-a~slow-first=5000", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b" }]`);
        routes.push(
          `"${routeName(c, d, stream)}" = [\n  { instance = "${f.instance}", provider = "anthropic", model = "${f.model}", priority = 1${fbt} },\n` +
            `  { instance = "b", provider = "anthropic", model = "claude-b" },\n]`,
        );
      }
    }
  }
  rig = startRig({
    mocks: ["a", "b"],
    dead: ["x"],
    // Long cooldowns: "skipped while cooling" must not depend on how fast the machine is.
    global: "lb_auth_cooldown_ms = 600000\nlb_transient_cooldown_ms = 600000\nlb_transient_heavy_cooldown_ms = 600000",
    routing: routes.join("\n"),
  });
});
afterAll(() => rig.stop());

const call = (d: (typeof DIALECTS)[number], model: string, stream: boolean) =>
  d === "anthropic"
    ? claude(rig.anthropic(), model, { stream })
    : d === "openai"
      ? chat(rig.openai(), model, { stream })
      : gemini(geminiClient(rig.gw.url), model, { stream });

describe.each(Object.keys(FAULTS) as Case[])("%s on one target", (c) => {
  const f = FAULTS[c];
  for (const d of DIALECTS) {
    for (const stream of [false, true]) {
      test(`${d} SDK, ${stream ? "streamed" : "not streamed"}: 200 from the other target, then the failing one is skipped`, async () => {
        const route = routeName(c, d, stream);
        const [a0, b0] = [rig.hits("a"), rig.hits("b")];

        const first = await call(d, route, stream);
        expect(first).toMatchObject({ status: 200, target: "b/claude-b", attempts: 2, route });
        expect(answeredBy(first.text)).toBe("b");
        expect(rig.hits("b")).toBe(b0 + 1);
        if (f.instance === "a") {
          expect(rig.hits("a")).toBe(a0 + 1);
          const seen = rig.mocks.a!.stats(1).last[0]!;
          expect(seen.model).toBe(f.model);
          if (f.status) expect(seen.status).toBe(f.status);
        }
        if (c === "first-byte timeout") {
          // The stalled attempt was abandoned, not left hanging upstream.
          await new Promise<void>((ok, fail) => {
            const end = Date.now() + 10_000;
            const poll = () => (rig.mocks.a!.stats().inFlight === 0 ? ok() : Date.now() > end ? fail(new Error("stalled attempt never aborted")) : setTimeout(poll, 20));
            poll();
          });
        }

        // Cooling: the next request goes straight to the healthy target.
        const second = await call(d, route, stream);
        expect(second).toMatchObject({ status: 200, target: "b/claude-b", attempts: 1 });
        expect(answeredBy(second.text)).toBe("b");
        expect(rig.hits("a")).toBe(f.instance === "a" ? a0 + 1 : a0);
        expect(rig.hits("b")).toBe(b0 + 2);
      }, 30_000);
    }
  }
});

// Last in this file: it stops instance a.
describe("the instance dies while holding the request, before any byte", () => {
  for (const d of DIALECTS) {
    for (const stream of [false, true]) {
      test(`${d} SDK, ${stream ? "streamed" : "not streamed"}: the reset fails over like a 502`, async () => {
        const pending = call(d, `dies.${d}.${stream ? "stream" : "json"}`, stream);
        await waitFor(() => rig.mocks.a!.stats().inFlight === 1, 10_000, "a to hold the request");
        await rig.kill("a"); // closes its open connections
        const r = await pending;
        expect(r).toMatchObject({ status: 200, target: "b/claude-b", attempts: 2 });
        expect(answeredBy(r.text)).toBe("b");
        rig.revive("a");
      }, 30_000);
    }
  }
});

test("a non-streamed answer whose body breaks before gw sent a byte fails over", async () => {
  // gw takes a sized JSON answer whole before sending it, so nothing has reached the client yet.
  const broken = await brokenBodyUpstream();
  const own = startRig({
    mocks: ["b"],
    upstreams: { x: broken.url },
    routing: DIALECTS.map((d) => `"r.${d}" = [{ instance = "x", provider = "anthropic", model = "claude-x", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b" }]`).join("\n"),
  });
  try {
    for (const d of DIALECTS.filter((x) => x !== "gemini")) {
      const h0 = broken.hits();
      const r = await (d === "anthropic" ? claude(own.anthropic(), `r.${d}`) : chat(own.openai(), `r.${d}`));
      expect(broken.hits()).toBe(h0 + 1);
      expect(r).toMatchObject({ status: 200, target: "b/claude-b", attempts: 2 });
      expect(answeredBy(r.text)).toBe("b");
    }
  } finally {
    await own.stop();
    await broken.stop();
  }
}, 30_000);

test("each attempt is rewritten from the client's request: the failed target's params do not follow to the next", async () => {
  const own = startRig({
    mocks: ["a", "b"],
    routing: `"r" = [
  { instance = "a", provider = "anthropic", model = "claude-a~429", priority = 1, params = { max_tokens_max = 100, thinking_budget_max = 50, anthropic_beta = "context-1m-2025-08-07", extra_headers = { "x-route-tag" = "a" } } },
  { instance = "b", provider = "anthropic", model = "claude-b", params = { thinking_budget_max = 1500 } },
]`,
  });
  try {
    for (const stream of [false, true]) {
      const r = await claude(own.anthropic(), "r", {
        stream,
        headers: { "anthropic-beta": "interleaved-thinking-2025-05-14" },
        params: { max_tokens: 4000, thinking: { type: "enabled", budget_tokens: 3000 } },
      });
      expect(r).toMatchObject({ status: 200, target: "b/claude-b", attempts: stream ? 1 : 2 });
      const atA = own.mocks.a!.stats(1).last[0]!;
      const atB = own.mocks.b!.stats(1).last[0]!;
      if (!stream) {
        expect(atA.body).toMatchObject({ model: "claude-a~429", max_tokens: 100, thinking: { type: "enabled", budget_tokens: 50 } });
        expect(atA.headers["x-route-tag"]).toBe("a");
      }
      const body = atB.body as Record<string, unknown>;
      expect(body).toMatchObject({ model: "claude-b", max_tokens: 4000, thinking: { type: "enabled", budget_tokens: 1500 } });
      expect(atB.headers["x-route-tag"]).toBeUndefined();
      expect(atB.headers["anthropic-beta"]).toBe("interleaved-thinking-2025-05-14");
    }
  } finally {
    await own.stop();
  }
}, 30_000);

describe("an instance that closes its idle keep-alive connection just as gw reuses it", () => {
  const rigWith = (url: string) =>
    startRig({
      mocks: ["b"],
      upstreams: { x: url },
      global: "lb_transient_cooldown_ms = 600000",
      routing: `"r" = [{ instance = "x", provider = "anthropic", model = "claude-x", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b" }]`,
    });

  test("the request is sent again on a new connection to the same target: no error, no failover, no cooldown", async () => {
    const x = await idleClosingUpstream();
    const own = rigWith(x.url);
    try {
      const first = await claude(own.anthropic(), "r");
      expect(first).toMatchObject({ status: 200, target: "x/claude-x", attempts: 1 });
      // Sent on the pooled connection, which x closes unanswered; then again on a new one.
      const second = await claude(own.anthropic(), "r");
      expect(second).toMatchObject({ status: 200, target: "x/claude-x", attempts: 1 });
      expect(answeredBy(second.text)).toBe("x");
      expect(x.requests()).toBe(3);
      expect(x.connections()).toBe(2);
      // x was not cooled: the next request goes there again.
      const third = await claude(own.anthropic(), "r");
      expect(third).toMatchObject({ status: 200, target: "x/claude-x", attempts: 1 });
      expect(own.hits("b")).toBe(0);
    } finally {
      await own.stop();
      await x.stop();
    }
  }, 30_000);

  test("a connection closed after the instance held the request (it may have worked on it) is not sent there again: it fails over", async () => {
    const x = await idleClosingUpstream(1_500);
    const own = rigWith(x.url);
    try {
      await claude(own.anthropic(), "r");
      const r = await claude(own.anthropic(), "r");
      expect(r).toMatchObject({ status: 200, target: "b/claude-b", attempts: 2 });
      expect(x.requests()).toBe(2);
    } finally {
      await own.stop();
      await x.stop();
    }
  }, 30_000);
});
