// The real Claude Code (npm @anthropic-ai/claude-code) on a route whose first target's model
// refuses its prompt as too long (gw mock's window=N: Anthropic's own 400, "prompt is too long"),
// where the route also has a long-context target: Claude Code gets its answer from that target and
// never sees the refusal. Real gw (`gw up`), `gw mock` instances, a throwaway HOME, nothing beyond
// loopback; everything waits for the request log, never a guessed time.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { installClaudeCode, type MockGateway, startMockGateway } from "../helpers/claude-code.ts";
import { CldSandbox, removeSandboxes } from "../helpers/cld.ts";

setDefaultTimeout(240_000); // Claude Code starts in seconds; a shared 2-core machine may be busy
const KEY = "sk-gw-client-key-0123456789";
// Claude Code's first request carries its system prompt and tools (tens of KB): far over 2,000
// tokens at the mock's 4 bytes a token. gw takes a's window from the catalogue (Claude Opus 4.6:
// 200k) — the upstream's own refusal, not gw's idea of the window, is what sends it on.
const ROUTE = `"grow" = [{ instance = "a", provider = "antigravity", model = "claude-opus-4-6-thinking~window=2000", priority = 1 }, { instance = "b", provider = "antigravity", model = "gemini-3-pro-high", context_window = 1048576 }]\n`;
let g: MockGateway;
const box = new CldSandbox({ noClaude: true });
const PATH = `${box.bin}:/usr/bin:/bin`;

beforeAll(async () => {
  g = await startMockGateway(KEY, { routes: ROUTE });
  installClaudeCode(box.bin);
});
afterAll(async () => {
  await g?.stop();
  removeSandboxes();
});

test("cld cp grow -p: a's 'prompt is too long' goes on to b's 1M window, and Claude Code gets b's answer", async () => {
  const before = g.mark();
  const r = await box.run(["cp", "-c", g.file, "grow", "-p", "say hi", "--output-format", "json"], { env: { PATH } });
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as { result: string; is_error: boolean };
  expect(out.is_error).toBe(false);
  expect(out.result).toContain("Mock answer from instance b, model gemini-3-pro-high");
  const onGrow = (await g.waitForRequests({ since: before, pick: (x) => x.routing.route === "grow" })).filter((x) => x.routing.route === "grow");
  const turn = onGrow.find((x) => x.request.messages > 0 && x.routing.attempts.length === 2)!;
  expect(turn.response.status).toBe(200);
  expect(turn.routing.attempts.map((a) => [a.instance, a.status, a.class])).toEqual([
    ["a", 400, "context"],
    ["b", 200, "ok"],
  ]);
  expect(turn.routing.attempts[0]!.error).toMatch(/prompt is too long: \d+ tokens > 2000 maximum/);
  expect(turn.cooldowns).toEqual([]);
});
