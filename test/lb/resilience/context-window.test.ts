// A prompt too long for one target's context window goes to a target of the route with a larger
// one, unseen by the client: each upstream family's own 400 (gw mock's window=N), through the
// SDKs. Targets no larger than the one that refused are passed over (they would refuse too), and
// the refusing target is not cooled: a prompt that fits goes back to it at once.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { answeredBy, chat, claude, errorExplained, type Rig, rejection, startRig, withRecord } from "../../helpers/resilience.ts";

// The mock counts a prompt's tokens as its body's bytes ÷ 4: this is ~2,500 tokens, over a window of 2,000.
const LONG = "lorem ipsum ".repeat(850);
const FAMILIES = { claude: "claude", gemini: "gemini", codex: "gpt" } as const;
type Family = keyof typeof FAMILIES;

let rig: Rig;

beforeAll(() => {
  const routes: string[] = [];
  for (const [family, prefix] of Object.entries(FAMILIES)) {
    for (const stream of [false, true]) {
      for (const d of ["anthropic", "openai"]) {
        // `a` first (the highest tier), then `b` — the same window, another account — then `c`, a larger window.
        routes.push(
          `"long.${family}.${d}.${stream ? "stream" : "json"}" = [\n` +
            `  { instance = "a", provider = "anthropic", model = "${prefix}-a~window=2000", context_window = 2000, priority = 2 },\n` +
            `  { instance = "b", provider = "anthropic", model = "${prefix}-b~window=2000", context_window = 2000, priority = 1 },\n` +
            `  { instance = "c", provider = "anthropic", model = "${prefix}-c", context_window = 1000000 },\n]`,
        );
      }
    }
  }
  // Only windows no larger than the refusing one: nothing to go on to.
  routes.push(`"small" = [{ instance = "a", provider = "anthropic", model = "claude-a~window=2000", context_window = 2000, priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b~window=1500", context_window = 1500 }]`);
  // A window believed larger than it is (a wrong context_window, or the catalogue's for a model a
  // relay serves shorter): the refusal's own count says which targets may still fit.
  routes.push(
    `"believed" = [\n` +
      `  { instance = "a", provider = "anthropic", model = "claude-x~window=2000", context_window = 1000000, priority = 3 },\n` +
      `  { instance = "b", provider = "anthropic", model = "claude-x~window=2000", context_window = 1000000, priority = 2 },\n` +
      `  { instance = "c", provider = "anthropic", model = "claude-c", context_window = 8000, priority = 1 },\n]`,
  );
  rig = startRig({ mocks: ["a", "b", "c"], global: "lb_max_target_retries = 2", routing: routes.join("\n") });
});
afterAll(() => rig.stop());

const call = (d: string, model: string, stream: boolean, text: string) =>
  d === "anthropic"
    ? claude(rig.anthropic(), model, { stream, params: { messages: [{ role: "user", content: text }] } })
    : chat(rig.openai(), model, { stream, params: { messages: [{ role: "user", content: text }] } });

describe.each(Object.keys(FAMILIES) as Family[])("%s's prompt-too-long 400", (family) => {
  for (const d of ["anthropic", "openai"]) {
    for (const stream of [false, true]) {
      test(`${d} SDK, ${stream ? "streamed" : "not streamed"}: answered by the larger window; the same window is passed over; the refusing target stays in`, async () => {
        const route = `long.${family}.${d}.${stream ? "stream" : "json"}`;
        const [a0, b0, c0] = [rig.hits("a"), rig.hits("b"), rig.hits("c")];

        const long = await call(d, route, stream, LONG);
        expect(long).toMatchObject({ status: 200, target: `c/${FAMILIES[family]}-c`, attempts: 2, route });
        expect(answeredBy(long.text)).toBe("c");
        const refused = rig.mocks.a!.stats(1).last[0]!;
        expect(refused.status).toBe(400);
        expect([rig.hits("a") - a0, rig.hits("b") - b0, rig.hits("c") - c0]).toEqual([1, 0, 1]);

        // No cooldown: a prompt that fits is a's again, at once.
        const short = await call(d, route, stream, "hi");
        expect(short).toMatchObject({ status: 200, target: `a/${FAMILIES[family]}-a~window=2000`, attempts: 1 });
        expect(answeredBy(short.text)).toBe("a");
      });
    }
  }
});

test("the request log and /metrics name the refusal as `context`; no target cools, and the instance counts no error", async () => {
  const route = "long.claude.anthropic.json";
  const errorsOfA = rig.gw.stats().byInstance.a!.errors;
  const [, rec] = await withRecord(rig.dir, route, () => call("anthropic", route, false, LONG));
  expect(rec.routing.attempts.map((a) => [a.instance, a.class, a.status])).toEqual([
    ["a", "context", 400],
    ["c", "ok", 200],
  ]);
  expect(rec.routing.attempts[0]!.error).toContain("prompt is too long: 2573 tokens > 2000 maximum");
  expect(rec.cooldowns).toEqual([]);
  expect(rig.gw.stats().byInstance.a!.errors).toBe(errorsOfA);
  const metrics = await (await fetch(`${rig.gw.url}/metrics`)).text();
  expect(metrics).toMatch(new RegExp(`gw_attempts_total\\{route="${route.replace(/\./g, "\\.")}",target="a/claude-a~window=2000",outcome="context"\\} [1-9]`));
  expect(metrics).not.toMatch(new RegExp(`gw_cooldowns_total\\{route="${route.replace(/\./g, "\\.")}"`));
});

test("no target with a larger window: the client gets the refusal as the upstream sent it, after one attempt", async () => {
  const [a0, b0] = [rig.hits("a"), rig.hits("b")];
  const e = errorExplained(await rejection(call("anthropic", "small", false, LONG)));
  expect(e).toMatchObject({ status: 400, attempts: 1, target: "a/claude-a~window=2000" });
  expect(e.text).toContain("prompt is too long");
  expect([rig.hits("a") - a0, rig.hits("b") - b0]).toEqual([1, 0]);
});

test("a target believed larger than it is: the refusal's count of tokens decides — a smaller-believed target that fits answers, the refusing one's twin (its model and belief) is passed over", async () => {
  const [a0, b0, c0] = [rig.hits("a"), rig.hits("b"), rig.hits("c")];
  expect(await claude(rig.anthropic(), "believed", { params: { messages: [{ role: "user", content: LONG }] } })).toMatchObject({ status: 200, target: "c/claude-c", attempts: 2 });
  expect([rig.hits("a") - a0, rig.hits("b") - b0, rig.hits("c") - c0]).toEqual([1, 0, 1]);
});

test("a session pays the refusal once: its next turn goes straight to the larger window it moved to (sticky), other sessions stay on the small one", async () => {
  const route = "long.claude.anthropic.json";
  const session = (id: string, text: string) => claude(rig.anthropic(), route, { headers: { "x-claude-code-session-id": id }, params: { messages: [{ role: "user", content: text }] } });
  const [a0, c0] = [rig.hits("a"), rig.hits("c")];
  expect(await session("ctx-long", LONG)).toMatchObject({ target: "c/claude-c", attempts: 2 });
  expect(await session("ctx-long", `${LONG} and one more turn`)).toMatchObject({ target: "c/claude-c", attempts: 1 });
  expect([rig.hits("a") - a0, rig.hits("c") - c0]).toEqual([1, 2]);
  expect(await session("ctx-short", "hi")).toMatchObject({ target: "a/claude-a~window=2000", attempts: 1 });
});

test("lb_max_target_retries = 0 (no failover at all): the refusal goes to the client, the larger window is not tried", async () => {
  const none = startRig({
    mocks: ["a", "c"],
    global: "lb_max_target_retries = 0",
    routing: `"one-go" = [{ instance = "a", provider = "anthropic", model = "claude-a~window=2000", context_window = 2000, priority = 1 }, { instance = "c", provider = "anthropic", model = "claude-c", context_window = 1000000 }]`,
  });
  try {
    const e = errorExplained(await rejection(claude(none.anthropic(), "one-go", { params: { messages: [{ role: "user", content: LONG }] } })));
    expect(e).toMatchObject({ status: 400, attempts: 1, target: "a/claude-a~window=2000" });
    expect(e.text).toContain("prompt is too long");
    expect([none.hits("a"), none.hits("c")]).toEqual([1, 0]);
  } finally {
    await none.stop();
  }
});
