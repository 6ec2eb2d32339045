// The gateway's own `explain` (what `gw route explain` asks a running gw over its control socket):
// decided on the live state — the session's held route and sticky target, a half-open target, a
// trial in flight, an instance draining for a restart — and leaving that state exactly as it was,
// although the same decision made for a real request writes to it.
import { afterEach, expect, test } from "bun:test";
import type { RunningGateway } from "../../../src/lb/server.ts";
import { type Explanation, formatExplanation } from "../../../src/lb/router/explain.ts";
import { createMemoryStore, type StateBackend } from "../../../src/state/index.ts";
import type { LocalStore } from "../../../src/state/memory.ts";
import { configFrom, externalInstances, startTestGateway } from "../../helpers/lb.ts";
import { type MockServer, startMock } from "../../helpers/mock.ts";
import { body, routerTable } from "./fixture.ts";

const MODELS = ["minimax-m2.5", "claude-sonnet-4-6", "claude-opus-4-6"];
const ROUTES = `
"M2.5" = [{ instance = "cheap", provider = "anthropic", model = "minimax-m2.5" }]
"sonnet4.6" = [{ instance = "strong", provider = "anthropic", model = "claude-sonnet-4-6" }, { instance = "cheap", provider = "anthropic", model = "claude-sonnet-4-6" }]
"opus4.6" = [{ instance = "strong", provider = "anthropic", model = "claude-opus-4-6" }]
`;
const CODING = "write a function in typescript that parses this file";

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

function setup(): { gw: RunningGateway; store: LocalStore } {
  const mocks: MockServer[] = ["cheap", "strong"].map((name) => startMock({ name, apiKeys: [`key-${name}`], models: MODELS }));
  const config = configFrom(`[global]\nmain_port = 8145\nhost = "127.0.0.1"\n${routerTable()}\n${externalInstances({ cheap: mocks[0]!.url, strong: mocks[1]!.url })}\n[routing]\n${ROUTES}`);
  const store = createMemoryStore();
  const state: StateBackend = { ...store, health: () => ({ backend: "memory", up: true, where: "memory" }), refresh: () => {}, close: async () => {} };
  const gw = startTestGateway(config, { state });
  stop = async () => {
    await gw.stop(0);
    await Promise.all(mocks.map((m) => m.stop()));
  };
  return { gw, store };
}

async function send(gw: RunningGateway, b: Record<string, unknown>, session: string): Promise<string> {
  const res = await fetch(`${gw.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "client", "x-claude-code-session-id": session },
    body: JSON.stringify(b),
  });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return res.headers.get("x-gw-target")!;
}

async function explain(gw: RunningGateway, b: Record<string, unknown>, session?: string): Promise<Explanation> {
  const out = await gw.explain(JSON.stringify(b), { session });
  if ("error" in out) throw new Error(out.error);
  return out;
}

test("the session's held route and sticky target come from the live state, and explaining writes nothing", async () => {
  const { gw, store } = setup();
  // A coding request of session S: the router picks sonnet4.6 and remembers it for S; the target
  // that served it becomes S's sticky target there.
  const served = await send(gw, body("auto", CODING), "S");
  const t = Date.now() + 1000; // one moment for both snapshots: entries carry their own times
  const before = store.snapshot(t);

  // A quick follow-up: fresh state would send it to M2.5; the running gw holds S on sonnet4.6,
  // on the very target that served it.
  const held = await explain(gw, body("auto", "yes"), "S");
  expect(held.state).toMatchObject({ running: true, pid: process.pid, store: { backend: "memory" } });
  expect(held.session).toBe("cc:S");
  expect(held.decision).toBe("session_hold");
  expect(held.route).toBe("sonnet4.6");
  expect(held.target).toMatchObject({ id: served, reason: "sticky" });
  expect(formatExplanation(held)).toContain(`target    ${served} (sticky: the session's target)`);
  // A new session would be remembered by a real request; explaining it is not.
  const fresh = await explain(gw, body("auto", CODING), "T");
  expect(fresh.decision).toBe("category_hit_coding");
  expect(store.snapshot(t)).toEqual(before);

  // The same decision for a real request does write (so the equality above says something).
  await send(gw, body("auto", CODING), "T");
  expect(store.snapshot(t).length).toBeGreaterThan(before.length);
});

test("a half-open target, a trial in flight and a draining instance are shown, and the pick follows them", async () => {
  const { gw, store } = setup();
  const now = Date.now();
  const strong = "strong/claude-sonnet-4-6";
  store.setCooldown("sonnet4.6", strong, { until: now - 1000, kind: "transient", reason: "503 overloaded", setAt: now - 61_000 });
  await gw.drain("cheap", 0);
  const cooling = store.coolingList(now);

  // strong is half-open, cheap's instance drains: strong gets the request, as its trial.
  const trial = await explain(gw, body("sonnet4.6", "hi"));
  expect(trial.target).toMatchObject({ id: strong, reason: "weighted" });
  const text = formatExplanation(trial);
  expect(text).toMatch(/^ {2}strong\/claude-sonnet-4-6 +w1 +← chosen {2}half-open: this request would be its trial$/m);
  expect(text).toMatch(/^ {2}cheap\/claude-sonnet-4-6 +w1 +instance draining for a restart: skipped$/m);
  expect(store.coolingList(now)).toEqual(cooling); // no trial was claimed by explaining

  // Another request holds strong's trial: the draining instance serves rather than nobody.
  store.claimTrial("sonnet4.6", strong, now + 30_000);
  const drained = await explain(gw, body("sonnet4.6", "hi"));
  expect(drained.target).toMatchObject({ id: "cheap/claude-sonnet-4-6", reason: "draining" });
  const lines = formatExplanation(drained);
  expect(lines).toMatch(/^ {2}strong\/claude-sonnet-4-6 +w1 +half-open, a trial in flight for \d+s: skipped$/m);
  // The chosen one is not said to be skipped: the target line's reason says why it was taken.
  expect(lines).toMatch(/^ {2}cheap\/claude-sonnet-4-6 +w1 +← chosen {2}instance draining for a restart$/m);
  expect(lines).toContain("target    cheap/claude-sonnet-4-6 (every other target is cooling: one on an instance draining for a restart)");
  gw.undrain("cheap");
});

test("an instance known down (the supervisor called it lost) is passed over, as an attempt passes it over, and shown so", async () => {
  const { gw } = setup();
  gw.availability("cheap", "lost");
  for (let i = 0; i < 10; i++) expect((await explain(gw, body("sonnet4.6", "hi"))).target).toMatchObject({ id: "strong/claude-sonnet-4-6", reason: "weighted" });
  const text = formatExplanation(await explain(gw, body("sonnet4.6", "hi")));
  expect(text).toMatch(/^ {2}cheap\/claude-sonnet-4-6 +w1 +instance known down \(lost, or its last probe failed\): skipped$/m);
  // Nothing else left: it is still the pick (an attempt tries it last), and not said to be skipped.
  const solo = formatExplanation(await explain(gw, body("M2.5", "hi")));
  expect(solo).toMatch(/^ {2}cheap\/minimax-m2.5 +w1 +← chosen {2}instance known down \(lost, or its last probe failed\)$/m);
  expect(solo).toContain("target    cheap/minimax-m2.5 (every target left is known down, lost or its last probe failed: tried anyway, the one back soonest)");
});

test("signed thinking goes back to the session's sticky target even while it cools, as the LB sends it", async () => {
  const { gw, store } = setup();
  const served = await send(gw, body("sonnet4.6", "hi"), "S");
  const now = Date.now();
  store.setCooldown("sonnet4.6", served, { until: now + 90_000, kind: "transient_heavy", reason: "429 rate limited", setAt: now });
  const signed = {
    model: "sonnet4.6",
    max_tokens: 1024,
    messages: [
      { role: "user", content: "hi" },
      { role: "assistant", content: [{ type: "thinking", thinking: "…", signature: "claude#abc" }, { type: "text", text: "hello" }] },
      { role: "user", content: "go on" },
    ],
  };
  const locked = await explain(gw, signed, "S");
  expect(locked.target).toMatchObject({ id: served, reason: "signature-lock" });
  const text = formatExplanation(locked);
  expect(text).toContain(`target    ${served} (signature lock: only the session's target can verify its signed thinking, cooling or not)`);
  expect(text).toMatch(new RegExp(`^  ${served.replace(/[/.]/g, "\\$&")} +w1 +← chosen  cooling, 1m(?:[0-2]\\d|30)s left \\(transient_heavy: 429 rate limited\\); the session's sticky target$`, "m"));
  // Without the session's sticky target (another session) the cooling target is passed over.
  const other = await explain(gw, signed, "U");
  expect(other.target).toMatchObject({ reason: "signature-weight" });
  expect((other.target as { id: string }).id).not.toBe(served);
});

test("a thinking-signature cooldown is shown as keeping out signed requests only: an unsigned request neither skips the target nor is its trial", async () => {
  const { gw, store } = setup();
  const now = Date.now();
  const strong = "strong/claude-sonnet-4-6";
  const line = (e: Explanation) => formatExplanation(e).split("\n").find((l) => l.startsWith(`  ${strong} `))!;
  store.setCooldown("sonnet4.6", strong, { until: now + 90_000, kind: "signature", reason: "400 invalid signature", setAt: now });
  const cooling = await explain(gw, body("sonnet4.6", "hi"));
  expect(line(cooling)).toMatch(/thinking-signature cooldown, 1m(?:[0-2]\ds|30s) left \(400 invalid signature\): keeps out signed requests only$/);
  expect(line(cooling)).not.toContain("skipped");
  store.setCooldown("sonnet4.6", strong, { until: now - 1000, kind: "signature", reason: "400 invalid signature", setAt: now - 121_000 });
  const over = await explain(gw, body("sonnet4.6", "hi"));
  expect(line(over)).toMatch(/thinking-signature cooldown over \(400 invalid signature\): the next signed request is its trial$/);
  expect(line(over)).not.toContain("this request would be its trial");
});

test("every target of the chosen route cooling: explain says default_model takes the request, as the LB then does", async () => {
  const { gw, store } = setup();
  const now = Date.now();
  for (const t of ["strong/claude-sonnet-4-6", "cheap/claude-sonnet-4-6"]) store.setCooldown("sonnet4.6", t, { until: now + 90_000, kind: "transient_heavy", reason: "429 rate limited", setAt: now });
  const e = await explain(gw, body("auto", CODING));
  expect(e).toMatchObject({ decision: "unanswered_fallback", suggested: "sonnet4.6", unanswered: "sonnet4.6", resolved: "M2.5", route: "M2.5", defaultModel: { name: "M2.5", outcome: "used" } });
  const text = formatExplanation(e);
  expect(text).toContain("decision  unanswered_fallback → M2.5: sonnet4.6 cannot answer now (every target cooling or down) (applied)");
  expect(text).toContain("x-gw-route: auto->M2.5 (default: sonnet4.6 cannot answer now)");
  // What the LB does with the same body.
  const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": "client" }, body: JSON.stringify(body("auto", CODING)) });
  expect([res.status, res.headers.get("x-gw-route"), res.headers.get("x-gw-target")]).toEqual([200, "auto->M2.5 (default: sonnet4.6 cannot answer now)", "cheap/minimax-m2.5"]);
  await res.arrayBuffer();
  // One target back: the route answers again.
  store.clearCooldown("sonnet4.6", "cheap/claude-sonnet-4-6");
  expect(await explain(gw, body("auto", CODING))).toMatchObject({ decision: "category_hit_coding", route: "sonnet4.6" });
});
