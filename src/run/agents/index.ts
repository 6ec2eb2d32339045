// The coding agents `gw run` knows. Adding one is one more module beside these
// and one more line here: the launcher, completions and help read this list.
import { claude } from "./claude/index.ts";
import { codex } from "./codex.ts";
import { gemini } from "./gemini.ts";
import { opencode } from "./opencode.ts";
import { qwen } from "./qwen.ts";
import type { Agent } from "./types.ts";

export const AGENTS: readonly Agent[] = [claude, codex, gemini, opencode, qwen];

export const agentNames = (): string[] => AGENTS.map((a) => a.name);

export function findAgent(name: string): Agent | undefined {
  return AGENTS.find((a) => a.name === name);
}
