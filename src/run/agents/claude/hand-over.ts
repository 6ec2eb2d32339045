// Claude Code's exit hint names the command that resumes a session. From 2.1.323 on it names cld
// (CLAUDE_CODE_RESUME_HINT_COMMAND, one plain word), in every mode: `cld --resume ID` finds the
// mode by where the session lives (cld/modes.ts). Older versions, and any version when cld is not
// on PATH (the hint must then say `./gw cld`), say `claude --resume ID`, which would leave the
// mode: through the gateway or Antigravity, that claude does not even find the session. For those,
// in interactive launches, the launcher stays the parent and follows the hint with the way back
// in. Otherwise it hands the terminal over (execve).
import type { ChildEnv } from "../../../cld/env.ts";
import { handOver, spawnAndForward } from "../../../cld/launch.ts";
import { say } from "../../../cld/say.ts";
import { cldDisplay } from "../../../supervisor/self.ts";
import { resumeHintEnv } from "./env.ts";
import { claudeConfigDir, claudeVersion, latestSession, printsCldHint } from "./resume.ts";
import { oneShotBy } from "../one-shot.ts";

/** `via` says where the session runs: "the gateway", "Antigravity", "Anthropic". */
export async function handOverToClaude(claude: string, args: readonly string[], env: ChildEnv, via: string): Promise<number> {
  const cld = cldDisplay();
  const hinted = { ...env, ...resumeHintEnv(cld) };
  const hintsRight = printsCldHint(claudeVersion(claude)) && hinted.CLAUDE_CODE_RESUME_HINT_COMMAND !== "";
  if (claudeOneShot(args) || hintsRight) return handOver(claude, args, hinted);
  const started = Date.now();
  const code = await spawnAndForward(claude, args, hinted);
  const dir = claudeConfigDir(hinted);
  const id = dir === undefined ? undefined : latestSession(dir, started);
  if (id) say(`resume it through ${via} with: ${cld} --resume ${id}`);
  return code;
}

/** `claude -p`: answers and exits, without a resume hint (cld ag and official too, which hand over here). */
export const claudeOneShot = oneShotBy({ flags: ["-p", "--print"] });
