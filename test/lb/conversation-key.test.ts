import { describe, expect, test } from "bun:test";
import { conversationKey, conversationOf } from "../../src/lb/conversation-key.ts";

const user = (text: string) => ({ role: "user", content: text });
const assistant = (text: string) => ({ role: "assistant", content: text });
const opening = (body: Record<string, unknown>) => conversationOf(body)?.opening;

describe("conversationOf", () => {
  test("one opening for every turn of a conversation, from its second on; the length grows", () => {
    const turn2 = { system: "be terse", messages: [user("fix the parser"), assistant("done"), user("now the tests")] };
    const turn5 = { system: "be terse", messages: [...turn2.messages, assistant("ok"), user("and docs"), assistant("ok"), user("ship it")] };
    expect(conversationOf(turn2)).toEqual({ opening: expect.stringMatching(/^[0-9a-z]+$/), turns: 3 });
    expect(conversationOf(turn5)).toEqual({ opening: opening(turn2)!, turns: 7 });
    expect(conversationKey(conversationOf(turn5)!)).toBe(`conv:${opening(turn2)}:7`);
    expect(conversationKey(conversationOf(turn5)!, 3)).toBe(`conv:${opening(turn2)}:3`);
  });

  test("none before a reply: a one-shot request, however often it is sent, is no conversation", () => {
    expect(conversationOf({ messages: [user("hi")] })).toBeUndefined();
    expect(conversationOf({ messages: [user("hi"), user("again")] })).toBeUndefined();
    expect(conversationOf({ contents: [{ role: "user", parts: [{ text: "hi" }] }] })).toBeUndefined();
    expect(conversationOf({ input: "hi" })).toBeUndefined();
    expect(conversationOf(undefined)).toBeUndefined();
  });

  test("another opening or another system prompt is another conversation", () => {
    const k = (system: string, first: string) => opening({ system, messages: [user(first), assistant("a"), user("b")] });
    expect(k("s", "one")).not.toBe(k("s", "two"));
    expect(k("s", "one")).not.toBe(k("t", "one"));
  });

  test("chat's leading system message is part of the opening; Gemini's model turns and systemInstruction count", () => {
    const chat = (sys: string) => opening({ messages: [{ role: "system", content: sys }, user("x"), assistant("y"), user("z")] });
    expect(chat("a")).not.toBe(chat("b"));
    const gem = (sys: string, turns: number) => {
      const contents = [{ role: "user", parts: [{ text: "task" }] }];
      for (let i = 0; i < turns; i++) contents.push({ role: "model", parts: [{ text: `r${i}` }] }, { role: "user", parts: [{ text: `u${i}` }] });
      return opening({ systemInstruction: { parts: [{ text: sys }] }, contents });
    };
    expect(gem("a", 1)).toBeDefined();
    expect(gem("a", 4)).toBe(gem("a", 1));
    expect(gem("b", 1)).not.toBe(gem("a", 1));
  });

  test("Responses input: a function call or reasoning item is a reply; instructions are the system prompt", () => {
    const input = (extra: object[]) => [{ role: "developer", content: "rules" }, { role: "user", content: [{ type: "input_text", text: "go" }] }, ...extra];
    const call = { type: "function_call", call_id: "c1", name: "ls", arguments: "{}" };
    const out = { type: "function_call_output", call_id: "c1", output: "a b" };
    expect(conversationOf({ instructions: "be Codex", input: input([]) })).toBeUndefined();
    const one = opening({ instructions: "be Codex", input: input([call, out]) });
    expect(one).toBeDefined();
    expect(opening({ instructions: "be Codex", input: input([call, out, { type: "reasoning", summary: [] }, call, out]) })).toBe(one);
    expect(opening({ instructions: "be Claude", input: input([call, out]) })).not.toBe(one);
  });
});
