// A keep-alive-spaced JSON answer that failed over from instance a to instance b is b's to cut when
// b's drain runs out of grace (gw restart b, a reload that removes it): it ends in gw's words, as
// one b served from the start does — it was listed under a, its first attempt's instance, and the
// process stopped under it instead (a reset, a break blamed on b).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { RunningGateway } from "../../src/lb/server.ts";
import { configFrom, startTestGateway, testUpstream, type TestUpstream, waitFor } from "../helpers/lb.ts";
import { tempDir } from "../helpers/tmp.ts";

const enc = new TextEncoder();
const KEY = "sk-ant-0123456789abcdef0123456789";
let a: TestUpstream, b: TestUpstream, gw: RunningGateway;

/** A JSON answer that sends `first` newlines, then `end` (or newlines for ever), paced as CLIProxyAPI keeps a slow answer alive. */
const spaced = (first: number, end?: string) => () => {
  let n = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      await Bun.sleep(20);
      if (n++ < first || end === undefined) return c.enqueue(enc.encode("\n"));
      c.enqueue(enc.encode(end));
      c.close();
    },
  }, { highWaterMark: 0 });
  return new Response(body, { headers: { "content-type": "application/json" } });
};

beforeAll(() => {
  a = testUpstream(spaced(2, JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } })));
  b = testUpstream(spaced(0));
  const inst = (n: string, url: string) => `[instances.${n}]\nurl = "${url}"\napi_key = "sk-${n}-instance-0123456789ab"\nproviders = [{ type = "anthropic", api_keys = ["${KEY}"] }]\n`;
  gw = startTestGateway(configFrom(`[global]\nmain_port = 8145\n${inst("a", a.url)}${inst("b", b.url)}[routing]\n"pair" = [{ instance = "a", provider = "anthropic", model = "m", priority = 1 }, { instance = "b", provider = "anthropic", model = "m" }]\n`, join(tempDir("gw-spaced-drain-"), "providers.toml")));
});
afterAll(async () => {
  await gw.stop(0);
  await a.stop();
  await b.stop();
});

test("an answer that failed over to b after keep-alive spaces is cut in gw's words when b's drain runs out of grace", async () => {
  const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "pair", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }) });
  const reader = res.body!.getReader();
  let text = "";
  let ended = false;
  void (async () => {
    for (;;) {
      const r = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (r.done) return void (ended = true);
      text += new TextDecoder().decode(r.value);
    }
  })();
  await waitFor(() => b.seen.length === 1, 5000, "the failover to b");
  const report = await gw.drain("b", 100, undefined, "restart");
  expect(report.left).toBe(1);
  await waitFor(() => ended, 5000, "the answer's end");
  expect(text.trim()).toStartWith('{"type":"error"');
  expect(text).toContain("gw restarted instance b: shutdown_grace_ms ran out before this answer ended");
  gw.undrain("b");
});
