// The real Claude Code (npm @anthropic-ai/claude-code) runs a tool round trip through cld and a
// real gw: the `gw mock` behind the route answers its first request with a signed thinking block
// and a call to the only tool Claude Code declares that can be called now (--tools Glob, a read-only search), Claude Code
// runs it and sends the result back with the signed block, the mock answers text, and the print
// session ends with that text. A throwaway HOME, nothing beyond loopback.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { claudeCodeVersion, installClaudeCode, type MockGateway, startMockGateway } from "../helpers/claude-code.ts";
import { CldSandbox, removeSandboxes } from "../helpers/cld.ts";

setDefaultTimeout(240_000); // Claude Code starts in seconds; a shared 2-core machine may be busy
const KEY = "sk-gw-client-key-0123456789";
let g: MockGateway;
const box = new CldSandbox({ noClaude: true });
const PATH = `${box.bin}:/usr/bin:/bin`;

beforeAll(async () => {
  g = await startMockGateway(KEY, { routes: `"tools" = [{ instance = "a", provider = "antigravity", model = "claude-opus-4-6-thinking~tool" }]\n` });
  installClaudeCode(box.bin);
  console.log(`Claude Code ${await claudeCodeVersion(join(box.bin, "claude"))} (${process.env.GW_TEST_CLAUDE ?? "npm devDependency"})`);
});
afterAll(async () => {
  await g?.stop();
  removeSandboxes();
});

test("cld cp tools -p: the mock calls Glob, Claude Code runs it and sends the result, the session ends with the mock's text", async () => {
  const before = g.mark();
  const args = ["cp", "-c", g.file, "tools", "-p", "find the files", "--tools", "Glob", "--allowedTools", "Glob", "--output-format", "json"];
  const r = await box.run(args, { env: { PATH } });
  expect([r.code, r.stderr.includes("Error")]).toEqual([0, false]);
  const out = JSON.parse(r.stdout) as { result: string; num_turns: number; is_error: boolean };
  expect([out.is_error, out.num_turns]).toEqual([false, 2]);
  expect(out.result).toBe("Mock answer from instance a, model claude-opus-4-6-thinking. ok ok ok ok ok");
  const records = (await g.waitForRequests({ since: before, count: 2, pick: (x) => x.routing.route === "tools" })).filter((x) => x.routing.route === "tools");
  expect(records.map((x) => x.response.status)).toEqual([200, 200]);
  // One output token for the call (and one for the thought); the text's twelve after the result.
  expect(records.map((x) => x.usage?.output)).toEqual([2, 13]);
  // What reached the mock: the signed thinking and the call sent back, and Glob's own result.
  type Block = { type: string; name?: string; signature?: string; is_error?: boolean; content?: unknown };
  const stats = (await (await fetch(`http://127.0.0.1:${g.sb.ports.a}/_mock/stats?last=1`)).json()) as { last: { body: { messages: { role: string; content: Block[] | string }[] } }[] };
  const messages = stats.last[0]!.body.messages;
  const blocks = (i: number) => messages.at(i)!.content as Block[];
  expect(blocks(-2).map((b) => [b.type, b.name ?? b.signature?.slice(0, 7)])).toEqual([["thinking", "claude#"], ["tool_use", "Glob"]]);
  const result = blocks(-1).find((b) => b.type === "tool_result")!;
  expect([result.is_error ?? false, JSON.stringify(result.content)]).toEqual([false, expect.stringContaining("No files found")]);
});
