import { describe, expect, test } from "bun:test";
import { countMessagesAndTools, decideUpgrade, describeUpgrade, estimateInputTokens } from "../../src/lb/upgrade.ts";
import { config, fromToml, lbConfig, route } from "../helpers/policy.ts";

const routes = [route("g3f.auto", [{ id: "official/gemini-3-flash" }]), route("opus4.6", [{ id: "official/claude-opus" }])];
const on = (over = {}) => config(routes, lbConfig({}, { enabled: true, map: { "g3f.auto": "opus4.6" }, ...over }));
const calm = { messages: 3, tools: 2, streak: 0, signed: false, inputTokens: 500 };

describe("decideUpgrade", () => {
  test("below every threshold: stays", () => {
    expect(decideUpgrade(on(), "g3f.auto", calm)).toEqual({ route: "g3f.auto", upgraded: false, reasons: [] });
  });

  test.each([
    [{ messages: 80 }, "messages 80>=80"],
    [{ tools: 10 }, "tools 10>=10"],
    [{ streak: 2 }, "streak 2>=2"],
    [{ signed: true }, "signed"],
  ])("each threshold alone upgrades: %o", (f, reason) => {
    expect(decideUpgrade(on(), "g3f.auto", { ...calm, ...f })).toEqual({ route: "opus4.6", upgraded: true, reasons: [reason] });
  });

  test("one below each default threshold does not", () => {
    for (const f of [{ messages: 79 }, { tools: 9 }, { streak: 1 }]) {
      expect(decideUpgrade(on(), "g3f.auto", { ...calm, ...f }).upgraded).toBe(false);
    }
  });

  test("input tokens only when its threshold is set", () => {
    const big = { ...calm, inputTokens: 150_000 };
    expect(decideUpgrade(on(), "g3f.auto", big).upgraded).toBe(false);
    expect(decideUpgrade(on({ inputTokensThreshold: 100_000 }), "g3f.auto", big).reasons).toEqual(["input_tokens 150000>=100000"]);
    expect(decideUpgrade(on({ inputTokensThreshold: 200_000 }), "g3f.auto", big).upgraded).toBe(false);
  });

  test("signature trigger can be turned off", () => {
    expect(decideUpgrade(on({ signatureEnabled: false }), "g3f.auto", { ...calm, signed: true }).upgraded).toBe(false);
  });

  test("all reasons are listed", () => {
    const d = decideUpgrade(on(), "g3f.auto", { messages: 90, tools: 25, streak: 3, signed: true, inputTokens: 0 });
    expect(d.reasons).toEqual(["messages 90>=80", "tools 25>=10", "streak 3>=2", "signed"]);
    expect(describeUpgrade("g3f.auto", d)).toBe("g3f.auto->opus4.6 (messages 90>=80, tools 25>=10, streak 3>=2, signed)");
    expect(describeUpgrade("g3f", decideUpgrade(on(), "g3f", calm))).toBe("g3f");
  });

  test("no upgrade when disabled, unmapped, or the mapped route does not exist", () => {
    const heavy = { ...calm, messages: 500 };
    expect(decideUpgrade(config(routes, lbConfig({}, { map: { "g3f.auto": "opus4.6" } })), "g3f.auto", heavy).upgraded).toBe(false);
    expect(decideUpgrade(on(), "opus4.6", heavy).upgraded).toBe(false);
    expect(decideUpgrade(on({ map: { "g3f.auto": "missing" } }), "g3f.auto", heavy).upgraded).toBe(false);
  });

  test("old lb_auto_upgrade_* keys from providers.toml", () => {
    const cfg = fromToml(`
[global]
main_port = 8145
lb_auto_upgrade_enabled = "yes"
lb_auto_upgrade_messages_threshold = 40
lb_auto_upgrade_tools_threshold = 5
lb_auto_upgrade_failure_streak_threshold = 3
lb_auto_upgrade_signature_enabled = false
[global.lb_auto_upgrade_map]
"g3f.auto" = "opus4.6"
[instances.official]
port = 8146
providers = [{ type = "antigravity" }]
[routing]
"g3f.auto" = [{ instance = "official", provider = "antigravity", model = "gemini-3-flash" }]
"opus4.6" = [{ instance = "official", provider = "antigravity", model = "claude-opus-4-6-thinking" }]
`);
    const up = (f: Partial<typeof calm>) => decideUpgrade(cfg, "g3f.auto", { ...calm, ...f });
    expect(up({ messages: 40 }).reasons).toEqual(["messages 40>=40"]);
    expect(up({ messages: 39, tools: 4, streak: 2, signed: true }).upgraded).toBe(false);
    expect(up({ tools: 5 }).reasons).toEqual(["tools 5>=5"]);
    expect(up({ streak: 3 })).toEqual({ route: "opus4.6", upgraded: true, reasons: ["streak 3>=3"] });
  });

  test("custom thresholds from config", () => {
    const cfg = on({ messagesThreshold: 5, toolsThreshold: 0 });
    expect(decideUpgrade(cfg, "g3f.auto", { ...calm, messages: 5 }).reasons).toEqual(["messages 5>=5"]);
    expect(decideUpgrade(cfg, "g3f.auto", { ...calm, tools: 999 }).upgraded).toBe(false);
  });
});

describe("estimates and counts", () => {
  test("estimateInputTokens = bytes / 4, rounded up", () => {
    expect(estimateInputTokens(undefined)).toBe(0);
    expect(estimateInputTokens(85_000)).toBe(21_250);
    expect(estimateInputTokens(new Uint8Array(10))).toBe(3);
    expect(estimateInputTokens("héllo")).toBe(2); // 6 UTF-8 bytes
  });

  test("counts in each dialect", () => {
    expect(countMessagesAndTools({ messages: [{}, {}, {}], tools: [{}, {}] })).toEqual({ messages: 3, tools: 2 });
    expect(countMessagesAndTools({ input: [{}, {}] })).toEqual({ messages: 2, tools: 0 });
    expect(countMessagesAndTools({ contents: [{}], tools: [{ functionDeclarations: [{}, {}, {}] }, { googleSearch: {} }] })).toEqual({
      messages: 1,
      tools: 3,
    });
    expect(countMessagesAndTools(undefined)).toEqual({ messages: 0, tools: 0 });
  });
});
