// The signature fallback's choice among its family's routes (src/lb/fallback-choice.ts): the first
// that can answer, judged as the attempt loop judges targets (route.ts readiness), or none.
import { describe, expect, test } from "bun:test";
import type { Target } from "../../src/config/types.ts";
import type { CooldownKind } from "../../src/state/types.ts";
import { chooseFallback } from "../../src/lb/fallback-choice.ts";
import { createMemoryStore } from "../../src/state/index.ts";
import { route } from "../helpers/policy.ts";

const NOW = 1_700_000_000_000;
/** Two Claude routes, in file order: the first on instance d, the second on instance c. */
const first = route("claude-down", [{ id: "d/claude-opus" }]);
const second = route("claude-home", [{ id: "c/claude-opus" }]);
const ROUTES = [first, second];
const set = (...names: string[]) => new Set(names);
/** Dead ends on these instances (dead-ends.ts: known down). */
const down = (...names: string[]) => ({ has: (t: Target) => names.includes(t.instance) });

/** A store in which `route`'s target `target` cools for a minute, of `kind`. */
function cooling(route: string, target: string, kind: CooldownKind = "transient") {
  const state = createMemoryStore();
  state.setCooldown(route, target, { until: NOW + 60_000, kind, reason: "", setAt: NOW });
  return state;
}

const chosen = (live: Parameters<typeof chooseFallback>[1]) => {
  const c = chooseFallback(ROUTES, live);
  return c && [c.route.name, c.answers];
};

describe("chooseFallback", () => {
  test("all can answer: the first in file order (as before)", () => {
    expect(chosen({ now: NOW, state: createMemoryStore() })).toEqual(["claude-down", true]);
  });

  test("the first route's only target cooling: the second", () => {
    expect(chosen({ now: NOW, state: cooling("claude-down", "d/claude-opus") })).toEqual(["claude-home", true]);
    // A signature cooldown keeps out signed requests, which every fallback is (state/types.ts keepsOut).
    expect(chosen({ now: NOW, state: cooling("claude-down", "d/claude-opus", "signature") })).toEqual(["claude-home", true]);
  });

  test("the first route's instance known down (lost, failed probe, unreachable for this request): the second", () => {
    expect(chosen({ now: NOW, deadEnds: down("d") })).toEqual(["claude-home", true]);
  });

  test("an instance on its way back is waited for only when no route can answer now", () => {
    expect(chosen({ now: NOW, resting: set("d") })).toEqual(["claude-home", true]);
    expect(chosen({ now: NOW, resting: set("d", "c") })).toEqual(["claude-down", true]);
    expect(chosen({ now: NOW, resting: set("d"), deadEnds: down("c") })).toEqual(["claude-down", true]);
  });

  test("a target cooling for signed requests only is the last resort: after one on its way back, before none (it verifies the signatures it made)", () => {
    const signature = cooling("claude-down", "d/claude-opus", "signature");
    expect(chosen({ now: NOW, state: signature, deadEnds: down("c") })).toEqual(["claude-down", true]);
    expect(chosen({ now: NOW, state: signature, resting: set("c") })).toEqual(["claude-home", true]);
    // Cooling for every request (a transient failure): out, as before.
    expect(chosen({ now: NOW, state: cooling("claude-down", "d/claude-opus"), deadEnds: down("c") })).toEqual(["claude-down", false]);
  });

  test("a cooldown on another route does not keep a target out (cooldowns are per route)", () => {
    expect(chosen({ now: NOW, state: cooling("gem", "d/claude-opus") })).toEqual(["claude-down", true]);
  });

  test("none can answer: none, and the first is the one named", () => {
    expect(chosen({ now: NOW, deadEnds: down("d", "c") })).toEqual(["claude-down", false]);
    expect(chosen({ now: NOW, state: cooling("claude-down", "d/claude-opus"), deadEnds: down("c") })).toEqual(["claude-down", false]);
    // Down wins over on its way back: a request found it dead after the wait for its respawn.
    expect(chosen({ now: NOW, resting: set("d", "c"), deadEnds: down("d", "c") })).toEqual(["claude-down", false]);
  });

  test("a route with one target able to answer can answer", () => {
    const mixed = route("claude-two", [{ id: "d/claude-a" }, { id: "c/claude-b" }]);
    expect(chooseFallback([mixed], { now: NOW, deadEnds: down("d") })).toEqual({ route: mixed, answers: true });
  });

  test("no routes: undefined", () => {
    expect(chooseFallback([], { now: NOW })).toBeUndefined();
  });
});
