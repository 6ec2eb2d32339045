// `cld --resume ID`: what Claude Code's exit hint says under cld (CLAUDE_CODE_RESUME_HINT_COMMAND).
// The session lives in the config dir of the mode it ran in (…/cld/cp/projects/<folder>/ID.jsonl),
// so that dir tells which mode to resume it in, without asking.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** The session id after `--resume` / `-r` in claude's arguments, when one is given. */
export function resumedSession(claudeArgs: readonly string[]): string | undefined {
  for (let i = 0; i < claudeArgs.length; i++) {
    const a = claudeArgs[i]!;
    if (a.startsWith("--resume=")) return sessionId(a.slice("--resume=".length));
    if (a === "--resume" || a === "-r") return sessionId(claudeArgs[i + 1]);
  }
  return undefined;
}

/** The first of `dirs` (Claude Code config dirs) whose projects hold the session. */
export function dirHoldingSession(dirs: readonly string[], id: string): string | undefined {
  return dirs.find((dir) => {
    const projects = join(dir, "projects");
    try {
      return readdirSync(projects).some((folder) => existsSync(join(projects, folder, `${id}.jsonl`)));
    } catch {
      return false;
    }
  });
}

/** Session ids are UUIDs; anything else (a search term, a path) is not looked up on disk. */
const sessionId = (s: string | undefined) => (s && /^[0-9a-f-]{8,64}$/i.test(s) ? s : undefined);
