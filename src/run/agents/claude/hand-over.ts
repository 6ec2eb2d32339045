// Claude Code's exit hint names the command that resumes a session. From 2.1.323 on it names cld
// (CLAUDE_CODE_RESUME_HINT_COMMAND, one plain word); older versions, and any version when cld is
// not on PATH (the hint must then say `./gw cld`), say `claude --resume ID`, which would leave the
// gateway. For those, in interactive launches, the launcher stays the parent and follows the hint
// with the way back in. Otherwise it hands the terminal over (execve).
import type { ChildEnv } from "../../../cld/env.ts";
import { handOver, spawnAndForward } from "../../../cld/launch.ts";
import { say } from "../../../cld/say.ts";
import { cldDisplay } from "../../../supervisor/self.ts";
import { claudeVersion, latestSession, printsCldHint } from "./resume.ts";

/** `via` says where the session runs: "the gateway", "Antigravity". */
export async function handOverToClaude(claude: string, args: readonly string[], env: ChildEnv, via: string): Promise<number> {
  const configDir = env.CLAUDE_CONFIG_DIR;
  // a hint command set empty: Claude Code cannot name the launcher (not a plain word, env.ts)
  const hintsRight = printsCldHint(claudeVersion(claude)) && env.CLAUDE_CODE_RESUME_HINT_COMMAND !== "";
  if (!configDir || !interactive(args) || hintsRight) return handOver(claude, args, env);
  const started = Date.now();
  const code = await spawnAndForward(claude, args, env);
  const id = latestSession(configDir, started);
  if (id) say(`resume it through ${via} with: ${cldDisplay()} --resume ${id}`);
  return code;
}

/** Print mode ends without a resume hint. */
const interactive = (args: readonly string[]) => !args.some((a) => a === "-p" || a === "--print");
