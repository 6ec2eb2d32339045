// /_mock/stats: what arrived upstream, for LB tests to assert on (model rewritten, headers, keys).

import { afterAll, expect, test } from "bun:test";
import { startMock } from "../helpers/mock.ts";

const mock = startMock({ name: "st", apiKeys: ["inst"] });
afterAll(() => mock.stop());
const send = (model: string, headers: Record<string, string> = {}) =>
  fetch(`${mock.url}/v1/messages?beta=true`, {
    method: "POST",
    headers: { "x-api-key": "inst", "anthropic-beta": "a,b", ...headers },
    body: JSON.stringify({ model, max_tokens: 7, messages: [{ role: "user", content: "hi" }] }),
  });

test("records path, query, headers, parsed body, model and status of each request", async () => {
  mock.reset();
  await send("m1");
  await send("m2~503", { "x-trace": "t2" });
  const res = await fetch(`${mock.url}/_mock/stats`);
  const stats = await res.json();
  expect(stats.name).toBe("st");
  expect(stats.total).toBe(2);
  expect(stats.inFlight).toBe(0);
  expect(stats.byPath).toEqual({ "/v1/messages": 2 });
  const [a, b] = stats.last;
  expect(a.query).toBe("?beta=true");
  expect(a.headers["x-api-key"]).toBe("inst");
  expect(a.headers["anthropic-beta"]).toBe("a,b");
  expect(a.body.max_tokens).toBe(7);
  expect(a.model).toBe("m1");
  expect(a.status).toBe(200);
  expect(b.model).toBe("m2~503");
  expect(b.status).toBe(503);
  expect(b.headers["x-trace"]).toBe("t2");
});

test("rejected requests are recorded too (with their 401)", async () => {
  mock.reset();
  await send("m1", { "x-api-key": "client-key" });
  expect(mock.stats().last[0]!.status).toBe(401);
  expect(mock.stats().last[0]!.headers["x-api-key"]).toBe("client-key");
});

test("?last=N, POST /_mock/reset, and the in-process accessors agree", async () => {
  for (let i = 0; i < 3; i++) await send(`m${i}`);
  const last1 = await (await fetch(`${mock.url}/_mock/stats?last=1`)).json();
  expect(last1.last.map((r: { model: string }) => r.model)).toEqual(["m2"]);
  expect(mock.stats(2).last.map((r) => r.model)).toEqual(["m1", "m2"]);
  expect((await fetch(`${mock.url}/_mock/reset`, { method: "POST" })).status).toBe(200);
  expect(mock.stats()).toEqual({ name: "st", total: 0, inFlight: 0, byPath: {}, last: [] });
});

test("keeps only the last 50 requests", async () => {
  mock.reset();
  await Promise.all(Array.from({ length: 60 }, (_, i) => send(`n${i}`)));
  const s = mock.stats();
  expect(s.total).toBe(60);
  expect(s.last).toHaveLength(50);
});

test("/healthz and /_mock/ are not counted", async () => {
  mock.reset();
  await fetch(`${mock.url}/healthz`);
  await fetch(`${mock.url}/_mock/stats`);
  expect(mock.stats().total).toBe(0);
});

test("a body that is not JSON is kept as text", async () => {
  mock.reset();
  await fetch(`${mock.url}/v1/messages`, { method: "POST", headers: { "x-api-key": "inst" }, body: "not json" });
  expect(mock.stats().last[0]!.body).toBe("not json");
});
