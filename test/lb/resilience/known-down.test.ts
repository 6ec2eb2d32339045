// A target on an instance known down (dead-ends.ts: lost, its last probe failed) is still tried
// when nothing else is left — and when it answers after all, the client gets that answer, as from
// any target: gw's own "every target is out" 503 is for targets that cool (own-error.ts), and the
// record says why the target was picked.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { claude, errorExplained, type Rig, rejection, startRig, withRecord } from "../../helpers/resilience.ts";

describe("the only target left is on an instance known down", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({ mocks: ["a"], routing: `"lone" = [{ instance = "a", provider = "anthropic", model = "claude-a~529" }]` });
  });
  afterAll(() => rig.stop());

  test("it answers 529 after all: the client gets that 529 and its words, the record the last-resort pick", async () => {
    rig.gw.availability("a", "lost"); // the supervisor's word (a crash loop); the instance answers meanwhile
    const [err, rec] = await withRecord(rig.dir, "lone", () => rejection(claude(rig.anthropic(), "lone")));
    const e = errorExplained(err);
    expect(e.status).toBe(529);
    expect(e.text).not.toContain("every target is out");
    expect(rig.hits("a")).toBe(1);
    expect(rec.routing.attempts.map((a) => [a.instance, a.status, a.pick])).toEqual([["a", 529, "known-down"]]);
  }, 30_000);
});

describe("a cooling target's failure, with the route's other target on an instance known down", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({
      mocks: ["b"],
      dead: ["a"],
      global: "lb_max_target_retries = 0", // one attempt: the dead end is left untried
      routing: `"pair" = [{ instance = "a", provider = "anthropic", model = "claude-a" }, { instance = "b", provider = "anthropic", model = "claude-b~529" }]`,
    });
  });
  afterAll(() => rig.stop());

  test("gw's 503 says why each target is out: the untried one is known down, not 'failed just now'", async () => {
    rig.gw.availability("a", "lost");
    await rejection(claude(rig.anthropic(), "pair")); // b answers 529: it cools
    const e = errorExplained(await rejection(claude(rig.anthropic(), "pair"))); // every target out: b tried anyway, a left
    expect(e.status).toBe(503);
    expect(e.text).toMatch(/a\/claude-a on instance \\*"a\\*", known down;/); // the SDK's message quotes the JSON body
    expect(e.text).toContain("b/claude-b~529 upstream errors, cooling until");
  }, 30_000);
});

describe("a target that fails and cools, then the last resort on an instance known down, which refuses the connection", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({
      mocks: ["b"],
      dead: ["a"],
      routing: `"pair" = [{ instance = "a", provider = "anthropic", model = "claude-a", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b~429=30" }]`,
    });
  });
  afterAll(() => rig.stop());

  test("the client gets gw's 503 saying why each target is out and when the first is back, not the refused connection's 502", async () => {
    rig.gw.availability("a", "lost");
    const [err, rec] = await withRecord(rig.dir, "pair", () => rejection(claude(rig.anthropic(), "pair")));
    expect(rec.routing.attempts.map((a) => [a.instance, a.pick])).toEqual([["b", "weighted"], ["a", "known-down"]]);
    const e = errorExplained(err);
    expect([e.status, e.text]).toEqual([503, expect.stringContaining("every target is out")]);
    expect(e.text).toContain("b/claude-b~429=30 rate limited or overloaded, cooling until");
    expect(e.text).toContain("a/claude-a down (unreachable), cooling until"); // its refusal cooled it
    const after = Number((err as { headers: Headers }).headers.get("retry-after"));
    expect(after).toBeGreaterThan(0);
    expect(e.text).toContain(`the first is back in ${after} s`);
  }, 30_000);
});
