// Client-key check and the unauthenticated routes, byte for byte as CLIProxyAPI answers them.

import { afterAll, describe, expect, test } from "bun:test";
import { startMock } from "../helpers/mock.ts";

const mock = startMock({ apiKeys: ["k1", "k2"] });
const open = startMock({});
afterAll(() => Promise.all([mock.stop(), open.stop()]));
const body = JSON.stringify({ model: "m", max_tokens: 5, messages: [] });
const post = (url: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

describe("client keys", () => {
  test.each([
    ["Bearer", { authorization: "Bearer k1" }, ""],
    ["bearer, any case", { authorization: "bEaReR k2" }, ""],
    ["x-api-key", { "x-api-key": "k2" }, ""],
    ["x-goog-api-key", { "x-goog-api-key": "k1" }, ""],
    ["?key=", {}, "?key=k1"],
    ["?auth_token=", {}, "?auth_token=k2"],
    ["a raw Authorization value", { authorization: "k1" }, ""],
    ["one good key among bad ones", { authorization: "Bearer nope", "x-api-key": "k1" }, ""],
  ])("%s is accepted", async (_, headers, query) => {
    const res = await post(`${mock.url}/v1/messages${query}`, headers as Record<string, string>);
    expect(res.status).toBe(200);
  });

  test("missing key: 401 {\"error\":\"Missing API key\"}", async () => {
    const res = await post(`${mock.url}/v1/messages`);
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await res.text()).toBe('{"error":"Missing API key"}');
  });

  test.each([
    ["wrong Bearer", { authorization: "Bearer k3" }],
    ["empty Bearer", { authorization: "Bearer " }],
    ["wrong x-api-key", { "x-api-key": "K1" }],
  ])("%s: 401 {\"error\":\"Invalid API key\"}", async (_, headers) => {
    const res = await post(`${mock.url}/v1/chat/completions`, headers);
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('{"error":"Invalid API key"}');
  });

  test("GET /v1/models and Gemini routes need a key too", async () => {
    expect((await fetch(`${mock.url}/v1/models`)).status).toBe(401);
    expect((await fetch(`${mock.url}/v1beta/models`)).status).toBe(401);
    expect((await fetch(`${mock.url}/v1beta/models?key=k1`)).status).toBe(200);
  });

  test("no api-keys configured means no client auth at all", async () => {
    expect((await post(`${open.url}/v1/messages`)).status).toBe(200);
    expect((await post(`${open.url}/v1/messages`, { authorization: "Bearer anything" })).status).toBe(200);
  });
});

describe("unauthenticated routes", () => {
  test("GET /healthz", async () => {
    const res = await fetch(`${mock.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"status":"ok"}');
  });

  test("HEAD /healthz", async () => {
    const res = await fetch(`${mock.url}/healthz`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
  });

  test("CORS like CLIProxyAPI: OPTIONS is 204 without a key; every answer carries the headers", async () => {
    const pre = await fetch(`${mock.url}/v1/messages`, { method: "OPTIONS" });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-methods")).toBe("GET, POST, PUT, PATCH, DELETE, OPTIONS");
    const denied = await post(`${mock.url}/v1/messages`);
    expect(denied.headers.get("access-control-allow-origin")).toBe("*");
    expect(denied.headers.get("access-control-expose-headers")).toContain("Retry-After");
  });

  test("unknown paths are gin's plain 404", async () => {
    const res = await fetch(`${mock.url}/v0/management/config`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe("404 page not found");
  });
});

describe("safe mode", () => {
  test("template api-keys (your-api-key-1..3) switch the proxy routes off with 403", async () => {
    const unsafe = startMock({ apiKeys: ["your-api-key-1"] });
    try {
      const res = await post(`${unsafe.url}/v1/messages`, { "x-api-key": "your-api-key-1" });
      expect(res.status).toBe(403);
      expect(res.headers.get("x-cpa-safe-mode")).toBe("example-api-key");
      expect((await res.json()).error).toBe("unsafe_example_api_key");
      expect((await fetch(`${unsafe.url}/healthz`)).status).toBe(200);
    } finally {
      await unsafe.stop();
    }
  });
});
