// Which signatures an instance calls its own (pure): the `sig=foreign` knob's judgement, in each dialect's shape.
import { describe, expect, test } from "bun:test";
import { carriesForeignSignature, signatureFor } from "../../src/mock/signatures.ts";

const mine = signatureFor("a", "claude-opus-4-6-thinking");
const theirs = signatureFor("b", "claude-opus-4-6-thinking");

describe("carriesForeignSignature", () => {
  test("Anthropic thinking blocks: only another instance's (or a non-mock) signature is foreign", () => {
    const body = (sig: string) => ({ messages: [{ role: "assistant", content: [{ type: "thinking", thinking: "t", signature: sig }] }] });
    expect(carriesForeignSignature(body(mine), "a")).toBe(false);
    expect(carriesForeignSignature(body(theirs), "a")).toBe(true);
    expect(carriesForeignSignature(body("EqQBCkgIARABGAIiQL"), "a")).toBe(true);
    expect(carriesForeignSignature({ messages: [{ role: "user", content: "hi" }] }, "a")).toBe(false);
  });

  test("Gemini thought parts (raw, no prefix) and Responses reasoning items", () => {
    const gem = signatureFor("a", "gemini-3-flash");
    expect(gem).not.toContain("#");
    expect(carriesForeignSignature({ contents: [{ role: "model", parts: [{ text: "x", thoughtSignature: gem }] }] }, "a")).toBe(false);
    expect(carriesForeignSignature({ contents: [{ role: "model", parts: [{ text: "x", thoughtSignature: gem }] }] }, "b")).toBe(true);
    expect(carriesForeignSignature({ input: [{ type: "reasoning", encrypted_content: signatureFor("b", "gpt-5") }] }, "a")).toBe(true);
  });

  test("a field that only happens to be named so — a tool call's input, a tool's result — is no signature", () => {
    const body = {
      messages: [
        { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "sign_mail", input: { signature: "Jane Doe", encrypted_content: "x" } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: [{ type: "text", text: "ok", signature: "-- J" }] }] },
      ],
      contents: [{ role: "model", parts: [{ functionCall: { name: "f", args: { thoughtSignature: "x" } } }] }],
    };
    expect(carriesForeignSignature(body, "a")).toBe(false);
  });
});
