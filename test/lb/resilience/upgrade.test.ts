// Auto-upgrade end to end: a request to a mapped cheap route moves to its stronger route when the
// conversation is long, has many tools, carries signed thinking, or its session keeps failing; the
// reasons show in `x-gw-route` and the request log, and the upstream sees the strong model.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { answeredBy, claude, logRecords, type Rig, rejection, startRig } from "../../helpers/resilience.ts";

const ROUTING = [
  `"cheap.auto" = [{ instance = "a", provider = "anthropic", model = "gemini-cheap" }]`,
  `"strong" = [{ instance = "b", provider = "anthropic", model = "claude-strong" }]`,
  `"plain" = [{ instance = "a", provider = "anthropic", model = "gemini-plain" }]`,
].join("\n");
const UPGRADE = `lb_auto_upgrade_enabled = true
lb_auto_upgrade_messages_threshold = 5
lb_auto_upgrade_tools_threshold = 3
lb_auto_upgrade_failure_streak_threshold = 2
lb_auto_upgrade_input_tokens_threshold = 4000
lb_auto_upgrade_map = { "cheap.auto" = "strong" }`;

/** n alternating messages ending with a user turn. */
const messages = (n: number): Anthropic.MessageParam[] =>
  Array.from({ length: n }, (_, i) => ({ role: (n - 1 - i) % 2 === 0 ? "user" : "assistant", content: `turn ${i}` }) as Anthropic.MessageParam);
const tools = (n: number): Anthropic.Tool[] =>
  Array.from({ length: n }, (_, i) => ({ name: `tool_${i}`, description: "a tool", input_schema: { type: "object" as const, properties: {} } }));
const signed: Anthropic.MessageParam[] = [
  { role: "user", content: "q" },
  { role: "assistant", content: [{ type: "thinking", thinking: "…", signature: "claude#c2lnbmVk" }, { type: "text", text: "a" }] },
  { role: "user", content: "q2" },
];

describe("enabled, cheap.auto → strong", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({ mocks: ["a", "b"], global: UPGRADE, routing: ROUTING });
  });
  afterAll(() => rig.stop());

  const CASES: [string, Parameters<typeof claude>[2], string | undefined][] = [
    ["1 message, no tools", {}, undefined],
    ["4 messages (below 5)", { params: { messages: messages(4) } }, undefined],
    ["5 messages", { params: { messages: messages(5) } }, "messages 5>=5"],
    ["2 tools (below 3)", { params: { tools: tools(2) } }, undefined],
    ["3 tools, streamed", { params: { tools: tools(3) }, stream: true }, "tools 3>=3"],
    ["7 messages and 4 tools", { params: { messages: messages(7), tools: tools(4) } }, "messages 7>=5, tools 4>=3"],
    ["a signed thinking block", { params: { messages: signed } }, "signed"],
  ];
  for (const [name, opts, reasons] of CASES) {
    test(`${name}: ${reasons ? `upgraded (${reasons})` : "stays"}`, async () => {
      const r = await claude(rig.anthropic(), "cheap.auto", opts);
      if (reasons) {
        expect(r).toMatchObject({ status: 200, route: `cheap.auto->strong (${reasons})`, target: "b/claude-strong" });
        expect(answeredBy(r.text)).toBe("b");
        expect((rig.mocks.b!.stats(1).last[0]!.body as { model: string }).model).toBe("claude-strong");
      } else {
        expect(r).toMatchObject({ status: 200, route: "cheap.auto", target: "a/gemini-cheap" });
      }
    }, 30_000);
  }

  test("a large conversation: the local input-token estimate reaches its threshold", async () => {
    const big: Anthropic.MessageParam[] = [{ role: "user", content: "x".repeat(20_000) }];
    const r = await claude(rig.anthropic(), "cheap.auto", { params: { messages: big } });
    expect(r.route).toMatch(/^cheap\.auto->strong \(input_tokens \d+>=4000\)$/);
    expect(r.target).toBe("b/claude-strong");
    const small = await claude(rig.anthropic(), "cheap.auto", { params: { messages: [{ role: "user", content: "x".repeat(10_000) }] } });
    expect(small.route).toBe("cheap.auto");
  }, 30_000);

  test("OpenAI Responses: encrypted reasoning counts as signed", async () => {
    const input = [
      { role: "user" as const, content: "q" },
      { type: "reasoning" as const, id: "rs_1", summary: [], encrypted_content: "gpt#ZW5jcnlwdGVk" },
      { role: "user" as const, content: "q2" },
    ];
    const { response } = await rig.openai().responses.create({ model: "cheap.auto", input }).withResponse();
    expect(response.headers.get("x-gw-route")).toBe("cheap.auto->strong (signed)");
    expect(response.headers.get("x-gw-target")).toBe("b/claude-strong");
  }, 30_000);

  test("a route outside the map never moves", async () => {
    const r = await claude(rig.anthropic(), "plain", { params: { messages: messages(9), tools: tools(5) } });
    expect(r).toMatchObject({ route: "plain", target: "a/gemini-plain" });
  }, 30_000);

  test("a session's failure streak upgrades it; a success resets the streak; other sessions are unaffected", async () => {
    const session = { "x-claude-code-session-id": crypto.randomUUID() };
    for (let i = 0; i < 2; i++) {
      const err = await rejection(claude(rig.anthropic(), "cheap.auto", { headers: { ...session, "x-mock-fault": "500" } }));
      expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    }
    const stranger = await claude(rig.anthropic(), "cheap.auto", { headers: { "x-claude-code-session-id": crypto.randomUUID() } });
    expect(stranger.route).toBe("cheap.auto");
    const upgraded = await claude(rig.anthropic(), "cheap.auto", { headers: session, stream: true });
    expect(upgraded).toMatchObject({ status: 200, route: "cheap.auto->strong (streak 2>=2)", target: "b/claude-strong" });
    const after = await claude(rig.anthropic(), "cheap.auto", { headers: session });
    expect(after).toMatchObject({ status: 200, route: "cheap.auto", target: "a/gemini-cheap" });
  }, 30_000);

  test("the request log has the decision: requested and served route, upgraded, reasons", async () => {
    await claude(rig.anthropic(), "cheap.auto", { params: { messages: messages(6) } });
    const recs = await logRecords(rig.dir, 1, (r) => r.routing.upgrade_reasons.includes("messages 6>=5"));
    expect(recs[0]!.routing).toMatchObject({ requested: "cheap.auto", route: "strong", upgraded: true, upgrade_reasons: ["messages 6>=5"] });
    expect(recs[0]!.routing.attempts[0]).toMatchObject({ target: "b/claude-strong", model: "claude-strong", status: 200 });
  }, 30_000);
});

test("disabled: nothing moves", async () => {
  const rig = startRig({ mocks: ["a", "b"], global: UPGRADE.replace("enabled = true", "enabled = false"), routing: ROUTING });
  try {
    const r = await claude(rig.anthropic(), "cheap.auto", { params: { messages: messages(9), tools: tools(5) } });
    expect(r).toMatchObject({ route: "cheap.auto", target: "a/gemini-cheap" });
    expect(rig.hits("b")).toBe(0);
  } finally {
    await rig.stop();
  }
}, 30_000);
