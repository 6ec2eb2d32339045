// The router's decision as a pure function over (config, body, session, state): the documented
// decisions of the later-format example, shadow mode, the session hold, the signature lock and
// the streak factors.
import { describe, expect, test } from "bun:test";
import type { Config } from "../../../src/config/types.ts";
import { activates, decideModel, describeRouter, type RouterOutcome } from "../../../src/lb/router/decide.ts";
import { findSignature, stickyKey, streakKey } from "../../../src/lb/session.ts";
import { createMemoryStore, type StateStore } from "../../../src/state/index.ts";
import { configFrom } from "../../helpers/lb.ts";
import { body, DECISIONS, ROUTER_ROUTES, routerTable } from "./fixture.ts";

const INSTANCES = `[instances.cheap]\nurl = "http://127.0.0.1:9"\nproviders = [{ type = "anthropic", api_keys = ["k"] }]\n[instances.strong]\nurl = "http://127.0.0.1:10"\nproviders = [{ type = "anthropic", api_keys = ["k"] }]\n`;
const cfg = (o: Parameters<typeof routerTable>[0] = {}) => configFrom(`[global]\nmain_port = 8145\nhost = "127.0.0.1"\n${routerTable(o)}\n${INSTANCES}\n[routing]\n${ROUTER_ROUTES}`);

const NOW = 1_700_000_000_000;

function decide(config: Config, b: Record<string, unknown>, o: { session?: string; state?: StateStore; answers?: (route: string) => boolean } = {}): RouterOutcome {
  const router = config.global.lb.router!;
  const model = b.model as string;
  expect(activates(router, model)).toBe(true);
  return decideModel({ config, router, body: b, model, session: o.session, sig: findSignature(b), state: o.state ?? createMemoryStore(), now: NOW, answers: o.answers });
}

describe("the later-format example decides as documented", () => {
  const config = cfg();
  for (const [what, b, decision, route] of DECISIONS) {
    test(`${what}: ${decision} → ${route}`, () => {
      const o = decide(config, b);
      expect(o).toMatchObject({ decision, route, resolved: route, applied: true, shadow: false });
    });
  }

  test("models outside activation_models are not the router's", () => {
    const router = config.global.lb.router!;
    expect(activates(router, "sonnet4.6")).toBe(false);
    expect(activates(router, undefined)).toBe(false);
    expect(activates(undefined, "auto")).toBe(false);
  });

  test("x-gw-route names the decision", () => {
    expect(describeRouter(decide(config, DECISIONS[0]![1]))).toBe("auto->sonnet4.6 (category coding)");
    expect(describeRouter(decide(config, body("auto", "go on", { history: 60 })))).toBe("auto->opus4.6 (rule high_complexity)");
    expect(describeRouter(decide(config, body("auto", "tell me a joke")))).toBe("auto->M2.5 (default)");
  });

  test("the trace shows each category looked at and each rule with its conditions", () => {
    const o = decide(config, body("auto", "go on", { history: 60 }));
    const ev = o.evaluation!;
    expect(ev.categories.map((c) => [c.category, c.matched])).toEqual([
      ["architecture", false],
      ["coding", false],
      ["quick", false],
    ]);
    expect(ev.rules).toHaveLength(2); // the second rule matched: the rest were not reached
    expect(ev.rules[0]).toMatchObject({ rule: "canary", matched: false, conditions: [{ field: "requested_model", op: "==", expected: "auto-canary", actual: "auto", matched: false }] });
    expect(ev.rules[1]).toMatchObject({ rule: "high_complexity", matched: true, match: "any" });
    expect(ev.rules[1]!.conditions).toEqual([
      { field: "messages_count", op: ">=", expected: 50, actual: 61, matched: true },
      { field: "prompt_chars", op: ">=", expected: "200000", actual: expect.any(Number), matched: false },
    ]);
    expect(o.factors!.all()).toMatchObject({ requested_model: "auto", messages_count: 61, conversation_depth: 61, task_category: "unknown", tool_profile: "none" });
  });
});

describe("shadow mode decides, logs and changes nothing", () => {
  test("the decision is made, the model stays", () => {
    const o = decide(cfg({ shadow: true }), DECISIONS[0]![1]);
    expect(o).toMatchObject({ decision: "category_hit_coding", route: "sonnet4.6", resolved: "auto", applied: false, shadow: true });
    expect(describeRouter(o)).toBe("auto (shadow: sonnet4.6, category coding)");
  });

  test("disabled: the decision is `disabled` and nothing is computed", () => {
    const o = decide(cfg({ enabled: false }), DECISIONS[0]![1]);
    expect(o).toMatchObject({ decision: "disabled", resolved: "auto", applied: false });
    expect(o.factors).toBeUndefined();
    expect(describeRouter(o)).toBe("auto (router disabled)");
  });
});

describe("a session keeps its route while its category flickers", () => {
  const config = cfg();
  /** One turn: decide, then write what the pipeline writes. */
  const turn = (state: StateStore, text: string, history = 0) => {
    const o = decide(config, body("auto", text, { history }), { session: "cc:s1", state });
    if (o.remember) state.setSticky(o.remember.key, o.remember.value, NOW);
    return o;
  };

  test("coding, then a greeting and a plain question: the session stays on sonnet4.6", () => {
    const state = createMemoryStore();
    expect(turn(state, "Implement the lexer").route).toBe("sonnet4.6");
    const hi = turn(state, "hi");
    expect(hi).toMatchObject({ decision: "session_hold", route: "sonnet4.6", held: { route: "sonnet4.6", decision: "category_hit_coding" } });
    expect(hi.evaluation!.suggested).toBe("M2.5"); // what the rules alone said
    expect(describeRouter(hi)).toBe("auto->sonnet4.6 (session hold: category coding)");
    expect(turn(state, "tell me a joke")).toMatchObject({ decision: "session_hold", route: "sonnet4.6" });
  });

  test("a higher-priority hit moves the session, and it stays there", () => {
    const state = createMemoryStore();
    turn(state, "Implement the lexer");
    expect(turn(state, "now a system design review")).toMatchObject({ decision: "category_hit_architecture", route: "opus4.6" });
    expect(turn(state, "Implement the parser")).toMatchObject({ decision: "session_hold", route: "opus4.6" });
  });

  test("sessions are apart, and a request without a session is decided afresh", () => {
    const state = createMemoryStore();
    turn(state, "Implement the lexer");
    expect(decide(config, body("auto", "hi"), { session: "cc:other", state }).route).toBe("M2.5");
    expect(decide(config, body("auto", "hi"), { state }).route).toBe("M2.5");
  });

  test("a remembered route that a reload removed is forgotten", () => {
    const state = createMemoryStore();
    state.setSticky("router:cc:s1::auto", JSON.stringify({ route: "gone", priority: 900, decision: "rule_hit_x" }), NOW);
    expect(turn(state, "hi")).toMatchObject({ decision: "category_hit_quick", route: "M2.5" });
  });
});

describe("signature lock: signed thinking goes back to the route that signed it", () => {
  const config = cfg();
  const signed = (text: string) => {
    const b = body("auto", text, { history: 2 });
    (b.messages as unknown[]).splice(1, 1, { role: "assistant", content: [{ type: "thinking", thinking: "…", signature: "claude#c2ln" }, { type: "text", text: "ok" }] });
    return b;
  };

  test("the session's sticky target on another route wins over the rules", () => {
    const state = createMemoryStore();
    state.setSticky(stickyKey("cc:s2", "opus4.6"), "strong/claude-opus-4-6", NOW);
    const o = decide(config, signed("hi"), { session: "cc:s2", state });
    expect(o).toMatchObject({ decision: "signature_lock", route: "opus4.6", resolved: "opus4.6" });
    expect(o.evaluation!.suggested).toBe("M2.5");
    expect(describeRouter(o)).toBe("auto->opus4.6 (signature lock)");
  });

  test("no sticky target anywhere: the rules decide", () => {
    const o = decide(config, signed("hi"), { session: "cc:s3", state: createMemoryStore() });
    expect(o).toMatchObject({ decision: "category_hit_quick", route: "M2.5" });
  });
});

describe("streak factors are per (session, requested model)", () => {
  test("two failures in a row: the struggling rule", () => {
    const config = cfg();
    const state = createMemoryStore();
    const key = streakKey("cc:s4", "auto");
    state.addFailure(key, NOW);
    state.addFailure(key, NOW);
    const o = decide(config, body("auto", "tell me a joke"), { session: "cc:s4", state });
    expect(o).toMatchObject({ decision: "rule_hit_struggling", route: "opus4.6" });
    expect(o.factors!.get("failure_streak")).toBe(2);
    expect(o.factors!.get("success_streak")).toBe(0);
  });
});

describe("unanswered fallback: a chosen route that cannot answer now gives the request to default_model", () => {
  const config = cfg();
  const without = (...down: string[]) => (route: string) => !down.includes(route);

  test("coding while sonnet4.6 cannot answer: M2.5 takes it, and says why", () => {
    const o = decide(config, body("auto", "Implement the lexer"), { answers: without("sonnet4.6") });
    expect(o).toMatchObject({ decision: "unanswered_fallback", route: "M2.5", resolved: "M2.5", applied: true, unanswered: "sonnet4.6" });
    expect(o.evaluation!.suggested).toBe("sonnet4.6");
    expect(describeRouter(o)).toBe("auto->M2.5 (default: sonnet4.6 cannot answer now)");
  });

  test("the session keeps its choice and goes back to it once it answers", () => {
    const state = createMemoryStore();
    const turn = (text: string, answers?: (route: string) => boolean) => {
      const o = decide(config, body("auto", text), { session: "cc:f1", state, answers });
      if (o.remember) state.setSticky(o.remember.key, o.remember.value, NOW);
      return o;
    };
    expect(turn("Implement the lexer").route).toBe("sonnet4.6");
    expect(turn("hi", without("sonnet4.6"))).toMatchObject({ decision: "unanswered_fallback", route: "M2.5", unanswered: "sonnet4.6" });
    expect(turn("hi")).toMatchObject({ decision: "session_hold", route: "sonnet4.6" });
  });

  test("default_model cannot answer either, or is the route chosen: the decision stands", () => {
    expect(decide(config, body("auto", "Implement the lexer"), { answers: without("sonnet4.6", "M2.5") })).toMatchObject({ decision: "category_hit_coding", route: "sonnet4.6" });
    expect(decide(config, body("auto", "hi"), { answers: without("M2.5") })).toMatchObject({ decision: "category_hit_quick", route: "M2.5" });
    expect(decide(config, body("auto", "Implement the lexer"), { answers: without() }).unanswered).toBeUndefined();
  });

  test("a signature lock never falls back: the signature would cross providers", () => {
    const state = createMemoryStore();
    state.setSticky(stickyKey("cc:f2", "opus4.6"), "strong/claude-opus-4-6", NOW);
    const b = body("auto", "hi", { history: 2 });
    (b.messages as unknown[]).splice(1, 1, { role: "assistant", content: [{ type: "thinking", thinking: "…", signature: "claude#c2ln" }, { type: "text", text: "ok" }] });
    expect(decide(config, b, { session: "cc:f2", state, answers: without("opus4.6") })).toMatchObject({ decision: "signature_lock", route: "opus4.6" });
  });

  test("shadow mode decides the fallback and changes nothing", () => {
    const o = decide(cfg({ shadow: true }), body("auto", "Implement the lexer"), { answers: without("sonnet4.6") });
    expect(o).toMatchObject({ decision: "unanswered_fallback", route: "M2.5", resolved: "auto", applied: false });
  });
});
