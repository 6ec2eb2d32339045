import { describe, expect, test } from "bun:test";
import { familyOfTarget } from "../../src/catalog/families.ts";
import {
  familyOfPrefix,
  familyRoutes,
  findSignature,
  responseSessionKey,
  sessionKey,
  stickyKey,
  streakKey,
} from "../../src/lb/session.ts";
import { config, route, target } from "../helpers/policy.ts";

const SID = "5b0c7f7e-3f7a-4f43-9d7c-1c2d3e4f5a6b";
const h = (init: Record<string, string> = {}) => new Headers(init);

describe("sessionKey order", () => {
  const body = {
    metadata: { user_id: JSON.stringify({ device_id: "d", account_uuid: "a", session_id: "json-sid" }) },
    prompt_cache_key: "pck",
    previous_response_id: "resp_1",
  };

  test("x-claude-code-session-id first", () => {
    expect(sessionKey(h({ "x-claude-code-session-id": SID, "x-session-id": "x" }), body)).toBe(`cc:${SID}`);
  });

  test("metadata.user_id JSON string → its session_id (same key as the header form)", () => {
    expect(sessionKey(h({ "x-session-id": "x" }), body)).toBe("cc:json-sid");
    const cc = { metadata: { user_id: JSON.stringify({ device_id: "d", account_uuid: "", session_id: SID }) } };
    expect(sessionKey(h(), cc)).toBe(sessionKey(h({ "x-claude-code-session-id": SID }), undefined));
  });

  test("metadata.user_id old string form", () => {
    expect(sessionKey(h(), { metadata: { user_id: `user_abc123_account_${SID}_session_${SID}` } })).toBe(`cc:${SID}`);
    expect(sessionKey(h(), { metadata: { user_id: "alice" } })).toBe("user:alice");
    expect(sessionKey(h(), { metadata: { user_id: "{not json" } })).toBe("user:{not json");
  });

  test("JSON user_id without session_id falls back to the whole string", () => {
    const uid = JSON.stringify({ device_id: "d" });
    expect(sessionKey(h(), { metadata: { user_id: uid } })).toBe(`user:${uid}`);
  });

  test("then the old headers, in order", () => {
    expect(sessionKey(h({ "anthropic-conversation-id": "c", "x-conversation-id": "b", "x-session-id": "a" }), {})).toBe("hdr:a");
    expect(sessionKey(h({ "anthropic-conversation-id": "c", "x-conversation-id": "b" }), {})).toBe("hdr:b");
    expect(sessionKey(h({ "anthropic-conversation-id": "c" }), undefined)).toBe("hdr:c");
  });

  test("then prompt_cache_key, then previous_response_id", () => {
    expect(sessionKey(h(), { prompt_cache_key: "pck", previous_response_id: "resp_1" })).toBe("pck:pck");
    expect(sessionKey(h(), { previous_response_id: "resp_1" })).toBe(responseSessionKey("resp_1"));
  });

  test("none", () => {
    expect(sessionKey(h(), { metadata: { user_id: 42 }, prompt_cache_key: "" })).toBeUndefined();
    expect(sessionKey(h(), undefined)).toBeUndefined();
    // A client's nulls and empties are no session (nor a crash): metadata null, an empty previous_response_id.
    expect(sessionKey(h(), { metadata: null, previous_response_id: "" })).toBeUndefined();
  });

  test("an empty session_id in a JSON user_id is none: the whole string is the key", () => {
    const uid = JSON.stringify({ device_id: "d", session_id: "" });
    expect(sessionKey(h(), { metadata: { user_id: uid } })).toBe(`user:${uid}`);
  });

  test("derived keys", () => {
    expect(stickyKey("cc:1", "opus4.6")).toBe("cc:1::opus4.6");
    expect(streakKey(undefined, "g3f.auto")).toBe("anon::g3f.auto");
    expect(streakKey("cc:1", "g3f.auto")).toBe("cc:1::g3f.auto");
  });
});

describe("findSignature", () => {
  const thinking = (signature: string) => ({ type: "thinking", thinking: "hmm", signature });

  test("unsigned requests", () => {
    expect(findSignature(undefined)).toEqual({ signed: false });
    expect(findSignature({ messages: [{ role: "user", content: "hi" }] })).toEqual({ signed: false });
    expect(findSignature({ messages: [{ role: "assistant", content: [{ type: "thinking", thinking: "x", signature: "" }] }] })).toEqual({
      signed: false,
    });
  });

  test("Anthropic thinking block with a prefixed signature; the last one names the prefix", () => {
    const body = {
      messages: [
        { role: "assistant", content: [thinking("gemini#abc"), { type: "text", text: "a" }] },
        { role: "user", content: [{ type: "text", text: "b" }] },
        { role: "assistant", content: [thinking("Claude#EqQBCkYI")] },
      ],
    };
    expect(findSignature(body)).toEqual({ signed: true, prefix: "claude" });
  });

  test("a bare base64 signature is signed with no prefix", () => {
    expect(findSignature({ messages: [{ role: "assistant", content: [thinking("EqQBCkYIBxgCKkD+/=")] }] })).toEqual({ signed: true });
  });

  test("redacted_thinking counts as signed", () => {
    expect(findSignature({ messages: [{ role: "assistant", content: [{ type: "redacted_thinking", data: "xyz" }] }] }).signed).toBe(true);
    expect(findSignature({ messages: [{ role: "assistant", content: [{ type: "redacted_thinking" }] }] }).signed).toBe(false); // no data: nothing signed
  });

  test("null blocks and items are skipped, not read", () => {
    expect(findSignature({ messages: [{ role: "assistant", content: [null, thinking("gemini#abc")] }], input: [null] })).toEqual({ signed: true, prefix: "gemini" });
  });

  test("OpenAI Responses reasoning items with encrypted_content", () => {
    const body = { input: [{ type: "reasoning", encrypted_content: "gpt#gAAAA" }, { role: "user", content: "next" }] };
    expect(findSignature(body)).toEqual({ signed: true, prefix: "gpt" });
    expect(findSignature({ input: "just text" })).toEqual({ signed: false });
    expect(findSignature({ input: [{ type: "reasoning", encrypted_content: "" }, { type: "message", encrypted_content: "gpt#x" }] })).toEqual({ signed: false });
  });
});

describe("signature families and fallback route", () => {
  test("prefix → family", () => {
    expect(["claude", "anthropic", "gemini", "GPT", "codex", "xai", "nope"].map(familyOfPrefix)).toEqual([
      "claude",
      "claude",
      "gemini",
      "gpt",
      "gpt",
      "grok",
      undefined,
    ]);
  });

  test("target family: model name first, then provider", () => {
    expect(familyOfTarget(target("official/claude-opus-4-6-thinking", { provider: "antigravity" }))).toBe("claude");
    expect(familyOfTarget(target("official/gemini-3-flash", { provider: "antigravity" }))).toBe("gemini");
    expect(familyOfTarget(target("relay/some-model", { provider: "anthropic" }))).toBe("claude");
    expect(familyOfTarget(target("c/gpt-5-codex", { provider: "codex" }))).toBe("gpt");
    expect(familyOfTarget(target("m/minimax-m2", { provider: "minimax" }))).toBeUndefined();
  });

  const cfg = config([
    route("g3f", [{ id: "official/gemini-3-flash" }]),
    route("mixed", [{ id: "official/claude-opus-4-6-thinking" }, { id: "official/gemini-3-pro" }]),
    route("opus4.6", [{ id: "official/claude-opus-4-6-thinking" }, { id: "relay/anthropic-opus", provider: "anthropic" }]),
    route("g3p", [{ id: "official/gemini-3-pro" }]),
  ]);

  const names = (routes: readonly { name: string }[]) => routes.map((r) => r.name);

  test("the routes, other than the current one, whose every target matches, in file order", () => {
    expect(names(familyRoutes(cfg, "claude", "g3f"))).toEqual(["opus4.6"]);
    expect(names(familyRoutes(cfg, "gemini", "opus4.6"))).toEqual(["g3f", "g3p"]);
    expect(names(familyRoutes(cfg, "gemini", "g3f"))).toEqual(["g3p"]);
  });

  test("none for an unknown prefix, no prefix, or no matching route", () => {
    expect(familyRoutes(cfg, "zzz", "g3f")).toEqual([]);
    expect(familyRoutes(cfg, undefined, "g3f")).toEqual([]);
    expect(familyRoutes(cfg, "gpt", "g3f")).toEqual([]);
  });
});
