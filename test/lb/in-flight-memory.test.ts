// While the upstream's answer is awaited, a request keeps what its attempts and its record need of
// the body (the text to resend, its top-level members), not the parsed body: Claude Code's bodies
// parse into thousands of values, which the collector would otherwise mark — and promote — for as
// long as each request lasts (bench/README.md, `bun bench/lb-cost.ts --cells`). Counted exactly:
// heap objects after a full collection, requests held in flight by a real upstream.
import { afterAll, expect, test } from "bun:test";
import { heapStats } from "bun:jsc";
import { configFrom, externalInstances, startTestGateway, testUpstream, waitFor } from "../helpers/lb.ts";

const MESSAGES = 20_000;
const REQUESTS = 4;
let release = () => {};
const answer = new Promise<void>((r) => (release = r));
const upstream = testUpstream(async () => {
  await answer;
  return Response.json({ type: "message", content: [{ type: "text", text: "ok" }], usage: { input_tokens: 1, output_tokens: 1 } });
});
const gw = startTestGateway(
  configFrom(`
${externalInstances({ u: upstream.url })}
[routing]
"r" = [{ instance = "u", provider = "anthropic", model = "m" }]
`),
);
afterAll(async () => {
  release();
  await gw.stop(0);
  await upstream.stop();
});

const objects = () => {
  Bun.gc(true);
  return heapStats().objectTypeCounts.Object ?? 0;
};

test("requests in flight do not hold their parsed bodies", async () => {
  // Built as text, so the test itself holds no parsed copy.
  const body = `{"model":"r","max_tokens":8,"messages":[${'{"role":"user","content":"hi"},'.repeat(MESSAGES - 1)}{"role":"user","content":"hi"}]}`;
  const before = objects();
  const answers: Promise<Response>[] = [];
  for (let i = 1; i <= REQUESTS; i++) {
    answers.push(fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body }));
    await waitFor(() => upstream.seen.length === i, 10_000, `request ${i} to reach the upstream`);
  }
  const held = objects() - before;
  release();
  for (const res of answers) expect((await res).status).toBe(200);
  // Parsed, each body is MESSAGES objects; what a request keeps besides is a few dozen. The
  // collector's conservative scan of the stack may still find a stale pointer to the latest
  // parse, hence the bound of one body and a half, not of none.
  expect(held).toBeLessThan(MESSAGES * 1.5);
});
