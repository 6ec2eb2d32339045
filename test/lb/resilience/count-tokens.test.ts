// Token counts (`POST /v1/messages/count_tokens`) are side requests: Claude Code's /context sends
// ~25 at once, and some CLIProxyAPI Antigravity builds answer them 501. Their outcome must not
// steer the generations of their session: no failure streak grown or reset (auto-upgrade), no
// cooldown set or ended, no sticky target moved. They still fail over, and their own error still
// reaches their client.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testUpstream, type TestUpstream } from "../../helpers/lb.ts";
import { claude, HI, type Rig, rejection, startRig } from "../../helpers/resilience.ts";

const NOT_COUNTED = { type: "error", error: { type: "api_error", message: "count tokens not supported" } };

/** Answers a generation, never a token count (as those Antigravity builds do). */
function generatesOnly(): TestUpstream {
  return testUpstream((_req, seen) => {
    if (seen.path.startsWith("/v1/messages/count_tokens")) return Response.json(NOT_COUNTED, { status: 501 });
    const usage = { input_tokens: 3, output_tokens: 2 };
    return Response.json({ id: "msg_c", type: "message", role: "assistant", model: "claude-pair", content: [{ type: "text", text: "from c" }], stop_reason: "end_turn", stop_sequence: null, usage });
  });
}

const GLOBAL = `lb_auto_upgrade_enabled = true
lb_auto_upgrade_failure_streak_threshold = 2
lb_auto_upgrade_map = { "g3f.auto" = "opus", "g3p.auto" = "opus" }`;
const ROUTING = [
  `"g3f.auto" = [{ instance = "a", provider = "anthropic", model = "gemini-3-flash" }]`,
  `"g3p.auto" = [{ instance = "a", provider = "anthropic", model = "gemini-3-pro" }]`,
  `"opus" = [{ instance = "b", provider = "anthropic", model = "claude-opus" }]`,
  `"solo" = [{ instance = "a", provider = "anthropic", model = "claude-solo" }]`,
  // c first (a higher priority): the preferred target, when it is not cooling and no session is sticky elsewhere.
  `"pair" = [{ instance = "c", provider = "anthropic", model = "claude-pair", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-pair" }]`,
].join("\n");

describe("count_tokens feeds no routing state", () => {
  let rig: Rig;
  let c: TestUpstream;
  beforeAll(() => {
    c = generatesOnly();
    rig = startRig({ mocks: ["a", "b"], upstreams: { c: c.url }, global: GLOBAL, routing: ROUTING });
  });
  afterAll(async () => {
    await rig.stop();
    await c.stop();
  });

  const session = () => ({ "x-claude-code-session-id": crypto.randomUUID() });
  const count = (model: string, headers: Record<string, string>) => rig.anthropic().messages.countTokens({ model, messages: HI }, { headers }).withResponse();
  const cooling = (route: string) => rig.gw.coolingList(Date.now()).filter((e) => e.route === route);

  test("failed counts in a session do not upgrade its next request, nor cool the target; the client gets the count's error", async () => {
    const s = session();
    const failed = await Promise.all(Array.from({ length: 4 }, () => rejection(count("g3f.auto", { ...s, "x-mock-fault": "501" }))));
    for (const e of failed) {
      expect(e).toBeInstanceOf(Anthropic.APIError);
      expect((e as InstanceType<typeof Anthropic.APIError>).status).toBe(501);
      expect((e as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: "error" }); // Anthropic's shape, as the mock wrote it
    }
    expect(cooling("g3f.auto")).toEqual([]);
    const next = await claude(rig.anthropic(), "g3f.auto", { headers: s });
    expect(next).toMatchObject({ status: 200, route: "g3f.auto", target: "a/gemini-3-flash" });
  }, 30_000);

  test("a successful count does not reset a real failure streak", async () => {
    const s = session();
    for (let i = 0; i < 2; i++) await rejection(claude(rig.anthropic(), "g3p.auto", { headers: { ...s, "x-mock-fault": "500" } }));
    const { data, response } = await count("g3p.auto", s);
    expect(data.input_tokens).toBeGreaterThan(0);
    expect(response.headers.get("x-gw-route")).toBe("g3p.auto->opus (streak 2>=2)"); // counted where the next turn goes
    const next = await claude(rig.anthropic(), "g3p.auto", { headers: s });
    expect(next).toMatchObject({ status: 200, route: "g3p.auto->opus (streak 2>=2)", target: "b/claude-opus" });
  }, 30_000);

  test("a count answered by a cooling target does not end its cooling", async () => {
    await rejection(claude(rig.anthropic(), "solo", { headers: { "x-mock-fault": "500" } }));
    expect(cooling("solo").map((e) => e.target)).toEqual(["a/claude-solo"]);
    const { data, response } = await count("solo", session());
    expect(data.input_tokens).toBeGreaterThan(0);
    expect(response.headers.get("x-gw-target")).toBe("a/claude-solo");
    expect(cooling("solo").map((e) => [e.target, e.halfOpen])).toEqual([["a/claude-solo", false]]);
  }, 30_000);

  test("a count fails over; the failed target is not cooled, and the session's next turn goes to the preferred target, not where the count went", async () => {
    const s = session();
    const { data, response } = await count("pair", s);
    expect(data.input_tokens).toBeGreaterThan(0);
    expect(response.headers.get("x-gw-attempts")).toBe("2");
    expect(response.headers.get("x-gw-target")).toBe("b/claude-pair");
    expect(c.seen.filter((x) => x.path.startsWith("/v1/messages/count_tokens"))).toHaveLength(1);
    expect(cooling("pair")).toEqual([]);
    const next = await claude(rig.anthropic(), "pair", { headers: s });
    expect(next).toMatchObject({ status: 200, target: "c/claude-pair", attempts: 1, text: "from c" });
  }, 30_000);
});
