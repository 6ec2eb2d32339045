// Gemini generateContent / streamGenerateContent / countTokens against the mock through @google/genai.

import { afterAll, describe, expect, test } from "bun:test";
import { GoogleGenAI } from "@google/genai";
import { startMock } from "../helpers/mock.ts";

const mock = startMock({ name: "gamma", apiKeys: ["k-gamma"], models: ["gemini-3-flash", "gemini-3-pro"] });
afterAll(() => mock.stop());
// @google/genai 3.x defaults to API version v1; CLIProxyAPI serves Gemini only under /v1beta.
const ai = new GoogleGenAI({ apiKey: "k-gamma", httpOptions: { baseUrl: mock.url, apiVersion: "v1beta" } });
const EXPECTED = "Mock answer from instance gamma, model gemini-3-flash. ok ok ok ok ok";

describe("Gemini dialect", () => {
  test("generateContent: text, finishReason and usageMetadata", async () => {
    const r = await ai.models.generateContent({ model: "gemini-3-flash", contents: "hi" });
    expect(r.text).toBe(EXPECTED);
    expect(String(r.candidates?.[0]?.finishReason)).toBe("STOP");
    expect(r.usageMetadata?.candidatesTokenCount).toBe(12);
    expect(r.usageMetadata?.totalTokenCount).toBe(r.usageMetadata!.promptTokenCount! + 12);
  });

  test("streamGenerateContent: chunks add up to the same text; usage on the last", async () => {
    const stream = await ai.models.generateContentStream({ model: "gemini-3-flash", contents: "hi" });
    let text = "";
    let chunks = 0;
    let usage: number | undefined;
    for await (const c of stream) {
      chunks++;
      text += c.text ?? "";
      usage = c.usageMetadata?.candidatesTokenCount ?? usage;
    }
    expect(text).toBe(EXPECTED);
    expect(chunks).toBe(12);
    expect(usage).toBe(12);
  });

  test("raw :streamGenerateContent?alt=sse is data-only SSE with the key in ?key=", async () => {
    const res = await fetch(`${mock.url}/v1beta/models/gemini-3-pro:streamGenerateContent?alt=sse&key=k-gamma`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
    });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const frames = (await res.text()).split("\n\n").filter(Boolean);
    expect(frames).toHaveLength(12);
    for (const f of frames) expect(f.startsWith("data: {")).toBe(true);
    expect(JSON.parse(frames.at(-1)!.slice(6)).modelVersion).toBe("gemini-3-pro");
  });

  test("countTokens", async () => {
    const r = await ai.models.countTokens({ model: "gemini-3-flash", contents: "x".repeat(400) });
    expect(r.totalTokens).toBeGreaterThan(100);
  });

  test("unknown model: 400 model_not_found, CLIProxyAPI's common error body", async () => {
    const err = await ai.models.generateContent({ model: "gemini-9", contents: "hi" }).catch((e) => e);
    expect(err.status).toBe(400);
    expect(JSON.parse(err.message.slice(err.message.indexOf("{")))).toEqual({
      error: { message: "unknown provider for model gemini-9", type: "invalid_request_error", code: "model_not_found", param: "model" },
    });
  });

  test("like CLIProxyAPI, there is no Gemini route under /v1 (the SDK's default version)", async () => {
    const v1 = new GoogleGenAI({ apiKey: "k-gamma", httpOptions: { baseUrl: mock.url } });
    const err = await v1.models.generateContent({ model: "gemini-3-flash", contents: "hi" }).catch((e) => e);
    expect(err.status).toBe(404);
  });

  test("GET /v1beta/models lists models/NAME", async () => {
    const pager = await ai.models.list();
    const names: string[] = [];
    for await (const m of pager) names.push(m.name ?? "");
    expect(names).toEqual(["models/gemini-3-flash", "models/gemini-3-pro"]);
  });
});
