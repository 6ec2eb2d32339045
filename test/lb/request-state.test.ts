// What a request leaves in the LB's memory (lb/request-state.ts): when it ends (recordEnd), the
// sticky entry of an OpenAI Responses id, kept only where a follow-up will look for it; nothing at
// all for a side request (a token count), neither at its end nor after its attempts (recordVerdict).
import { expect, test } from "bun:test";
import { conversationKey, conversationOf } from "../../src/lb/conversation-key.ts";
import type { Outcome } from "../../src/lb/classify.ts";
import { pickContext, type RequestFacts, recordEnd, recordVerdict, stickyKeyOn } from "../../src/lb/request-state.ts";
import { responseSessionKey, sessionKey, stickyKey } from "../../src/lb/session.ts";
import { explainBody, formatExplanation } from "../../src/lb/router/explain.ts";
import { createMemoryStore } from "../../src/state/index.ts";
import { configFrom, externalInstances } from "../helpers/lb.ts";

const config = configFrom(`[global]\nmain_port = 8145\n${externalInstances({ a: "http://127.0.0.1:9" })}\n[routing]\n"gpt" = [{ instance = "a", provider = "anthropic", model = "gpt-5" }]\n`);
const route = config.routes.get("gpt")!;
const facts = (body: Record<string, unknown>) => ({ session: sessionKey(new Headers(), body), streakKey: undefined }) as unknown as RequestFacts;
const stickyEntries = (store: ReturnType<typeof createMemoryStore>, now: number) => store.snapshot(now).filter((c) => c.op === "setSticky");

test("a Codex conversation (prompt_cache_key on every turn) leaves no sticky entry per response; a previous_response_id chain does", () => {
  const store = createMemoryStore();
  const now = Date.now();
  // 200 turns of one conversation: the follow-ups are found by their prompt_cache_key, never by an id.
  for (let i = 0; i < 200; i++) recordEnd(store, facts({ prompt_cache_key: "conv-1", input: "x" }), { ok: true, now, route, targetId: "a/gpt-5", responseId: `resp_${i}` });
  expect(stickyEntries(store, now)).toHaveLength(0);

  // No session named: the response id is the only way back, so it is remembered…
  recordEnd(store, facts({ input: "hi" }), { ok: true, now, route, targetId: "a/gpt-5", responseId: "resp_first" });
  // …and so is each id of a chain that continues through previous_response_id alone.
  recordEnd(store, facts({ input: "more", previous_response_id: "resp_first" }), { ok: true, now, route, targetId: "a/gpt-5", responseId: "resp_second" });
  for (const id of ["resp_first", "resp_second"]) expect(store.sticky(stickyKey(responseSessionKey(id), "gpt"), now)).toBe("a/gpt-5");
  expect(stickyEntries(store, now)).toHaveLength(2);
});

test("a conversation (no session named) is sticky only on a route with another account to hop to: one target reads and writes nothing", () => {
  const two = configFrom(`[global]\nmain_port = 8145\n${externalInstances({ a: "http://127.0.0.1:9", b: "http://127.0.0.1:10" })}\n[routing]\n"gpt" = [{ instance = "a", provider = "anthropic", model = "gpt-5" }, { instance = "b", provider = "anthropic", model = "gpt-5" }]\n`).routes.get("gpt")!;
  const turn = (n: number) => ({ messages: [{ role: "user", content: "q" }, ...Array.from({ length: n - 1 }, (_, i) => ({ role: i % 2 ? "user" : "assistant", content: `t${i}` }))] });
  const facts = (n: number) => ({ session: undefined, conversation: conversationOf(turn(n)), sig: { signed: false }, streakKey: undefined }) as unknown as RequestFacts;
  const now = Date.now();
  expect(stickyKeyOn(facts(3), route)).toBeUndefined();
  expect(stickyKeyOn(facts(3), two)).toBe(stickyKey(conversationKey(conversationOf(turn(3))!), "gpt"));

  // The turn before left its entry: on two targets the next turn finds it (and, once it succeeds, clears it); on one, nothing is read or cleared.
  for (const [r, read] of [[two, true], [route, false]] as const) {
    const store = createMemoryStore();
    store.setSticky(stickyKey(conversationKey(conversationOf(turn(3))!), "gpt"), "a/gpt-5", now);
    const ctx = pickContext(facts(5), r, { tried: new Set(), now, state: store });
    expect(ctx.sessionKey).toBe(read ? stickyKey(conversationKey(conversationOf(turn(3))!), "gpt") : undefined);
    recordEnd(store, facts(5), { ok: true, now, route: r, targetId: "a/gpt-5" });
    expect(stickyEntries(store, now)).toHaveLength(read ? 0 : 1);
  }
});

test("gw route explain says a session-less conversation is sticky only on a route of more than one target", async () => {
  const cfg = configFrom(
    `[global]\nmain_port = 8145\n${externalInstances({ a: "http://127.0.0.1:9", b: "http://127.0.0.1:10" })}\n[routing]\n` +
      `"one" = [{ instance = "a", provider = "anthropic", model = "gpt-5" }]\n"two" = [{ instance = "a", provider = "anthropic", model = "gpt-5" }, { instance = "b", provider = "anthropic", model = "gpt-5" }]\n`,
  );
  const conversation = (model: string) => JSON.stringify({ model, max_tokens: 9, messages: [{ role: "user", content: "q" }, { role: "assistant", content: "a" }, { role: "user", content: "q2" }] });
  const line = async (model: string) => {
    const e = await explainBody(cfg, conversation(model));
    if ("error" in e) throw new Error(e.error);
    return formatExplanation(e).split("\n").find((l) => l.startsWith("session"));
  };
  expect(await line("two")).toContain("none named; sticky as a conversation (conv:");
  expect(await line("one")).toContain("none (nothing is sticky; streaks count as anon)");
});

test("a side request writes nothing: no cooldown set or ended, no sticky target, no streak; a half-open target's trial it took is let go", () => {
  const store = createMemoryStore();
  const now = Date.now();
  const side = { session: "cc:s", sig: { signed: false }, streakKey: "cc:s::gpt", side: true } as unknown as RequestFacts;
  const failed: Outcome = { class: "transient", status: 501, cooldownMs: 60_000, kind: "transient", reason: "501 count tokens not supported" };
  const ok: Outcome = { class: "ok", status: 200, cooldownMs: 0, reason: "ok" };
  expect(recordVerdict(store, side, failed, { route, target: "a/gpt-5", now })).toBeUndefined();
  expect(store.cooldown("gpt", "a/gpt-5", now)).toBeUndefined();
  recordEnd(store, side, { ok: false, now, route, targetId: "a/gpt-5" });
  expect(store.streak("cc:s::gpt", now)).toBe(0);

  // Half-open, its trial taken by the side request: its success ends neither the cooldown nor the wait for a real trial.
  store.setCooldown("gpt", "a/gpt-5", { until: now - 1, kind: "transient", reason: "501", setAt: now - 60_000 });
  store.claimTrial("gpt", "a/gpt-5", now + 60_000);
  expect(recordVerdict(store, side, ok, { route, target: "a/gpt-5", now, trial: true })).toBeUndefined();
  expect(store.cooldown("gpt", "a/gpt-5", now)).toEqual({ until: now - 1, kind: "transient", reason: "501", setAt: now - 60_000 });
  expect(stickyKeyOn(side, route)).toBeUndefined();
  expect(stickyEntries(store, now)).toHaveLength(0);

  // The same verdict of a generation ends the cooldown and makes the target the session's.
  expect(recordVerdict(store, { ...side, side: false }, ok, { route, target: "a/gpt-5", now, trial: true })).toMatchObject({ ended: { kind: "transient" } });
  expect(store.cooldown("gpt", "a/gpt-5", now)).toBeUndefined();
  expect(store.sticky(stickyKey("cc:s", "gpt"), now)).toBe("a/gpt-5");
});
