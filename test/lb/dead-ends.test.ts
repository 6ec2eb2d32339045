// A request's dead ends (src/lb/dead-ends.ts): the instances known down, and the instance and
// upstream model that rejected its thinking signature — the same call to the same verifier.
import { describe, expect, test } from "bun:test";
import type { Target } from "../../src/config/types.ts";
import { DeadEnds } from "../../src/lb/dead-ends.ts";
import type { Tried } from "../../src/lb/failover.ts";
import { target } from "../helpers/policy.ts";

/** What an attempt on `t` left: a 400 of `cls`, or a connection that failed. */
function tried(t: Target, cls: "signature" | "client" | "connect"): Tried {
  const attempt = { instance: { name: t.instance }, target: t } as unknown as Tried["outcome"]["attempt"];
  if (cls === "connect") return { outcome: { kind: "failed", attempt, reason: "connect", message: "" }, classified: { class: "transient", status: 0, cooldownMs: 0, reason: "" } };
  return { outcome: { kind: "response", attempt, status: 400, headers: new Headers() } as Tried["outcome"], classified: { class: cls, status: 400, cooldownMs: 0, reason: "" } };
}

const rejecting = target("a/claude-a");
const ends = (...notes: Tried[]) => {
  const d = new DeadEnds({ probedDown: () => false });
  for (const n of notes) d.note(n);
  return d;
};

describe("DeadEnds", () => {
  test("the instance and upstream model that rejected the signature, behind any route", () => {
    const d = ends(tried(rejecting, "signature"));
    expect(d.has(target("a/claude-a"))).toBe(true);
    // Another model on the instance (another account or provider behind it), another instance: may verify it.
    expect(d.has(target("a/claude-s"))).toBe(false);
    expect(d.has(target("b/claude-a"))).toBe(false);
    // The model as sent: a thinking level's suffix makes another one.
    expect(d.has(target("a/claude-a", { params: { anthropicBeta: [], extraHeaders: {}, thinkingLevel: "high" } }))).toBe(false);
  });

  test("a 400 of another kind is no dead end; a connection that failed makes its whole instance one", () => {
    expect(ends(tried(rejecting, "client")).has(rejecting)).toBe(false);
    const d = ends(tried(rejecting, "connect"));
    expect(d.has(target("a/claude-s"))).toBe(true);
    expect(d.has(target("b/claude-a"))).toBe(false);
  });

  test("an instance waited for in vain, only while it is still on its way back", () => {
    const resting = new Set(["a"]);
    const d = new DeadEnds({ probedDown: () => false, resting });
    d.note({ outcome: { kind: "failed", attempt: tried(rejecting, "connect").outcome.attempt, reason: "timeout", message: "" }, classified: undefined });
    expect(d.has(rejecting)).toBe(true);
    resting.delete("a");
    expect(d.has(rejecting)).toBe(false);
  });

  test("lost, or its last probe failed", () => {
    expect(new DeadEnds({ probedDown: () => false, lost: new Set(["a"]) }).has(rejecting)).toBe(true);
    expect(new DeadEnds({ probedDown: (i) => i === "a" }).has(rejecting)).toBe(true);
    expect(new DeadEnds({ probedDown: () => false }).has(rejecting)).toBe(false);
  });
});
