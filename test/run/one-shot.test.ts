// Which runs answer and exit (and so leave the window's title alone): each agent's prompt flag
// and its commands, a session's commands apart.
import { expect, test } from "bun:test";
import { AGENTS } from "../../src/run/agents/index.ts";

const agent = (name: string) => AGENTS.find((a) => a.name === name)!;
const oneShot = (name: string, ...args: string[]) => agent(name).oneShot?.(args) ?? false;

test("a prompt flag or a command that exits is one shot; a bare launch, a session's command or a word after -- is not", () => {
  expect([oneShot("claude", "-p", "hi"), oneShot("claude", "--print"), oneShot("claude"), oneShot("claude", "--resume", "x"), oneShot("claude", "--", "-p")]).toEqual([true, true, false, false, false]);
  expect([oneShot("codex", "exec", "hi"), oneShot("codex", "e", "hi"), oneShot("codex", "resume"), oneShot("codex", "-m", "gpt5"), oneShot("codex", "fix the tests")]).toEqual([true, true, false, false, false]);
  expect([oneShot("gemini", "-p", "hi"), oneShot("gemini", "--prompt=hi"), oneShot("gemini", "-i", "hi"), oneShot("gemini", "mcp", "list")]).toEqual([true, true, false, true]);
  expect([oneShot("opencode", "run", "hi"), oneShot("opencode", "attach", "url"), oneShot("opencode")]).toEqual([true, false, false]);
  expect([oneShot("qwen", "-p", "hi"), oneShot("qwen", "sessions"), oneShot("qwen", "-m", "x")]).toEqual([true, true, false]);
});
