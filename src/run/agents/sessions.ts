// Where the agents gw runs keep their sessions, to name the one an interactive launch just ran in
// the way back in through gw (launch.ts: the agent's own exit hint would leave the gateway). Each
// looks for what was written since the launch, as cld does for Claude Code (claude/resume.ts).
import { Database } from "bun:sqlite";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { MTIME_LAG_MS } from "./claude/resume.ts";

/** The newest file under `dir` (at any depth) whose path in it matches `pattern`, written since `sinceMs`: its match. */
export function newestFile(dir: string, pattern: RegExp, sinceMs: number): RegExpExecArray | undefined {
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true, encoding: "utf8" });
  } catch {
    return undefined;
  }
  let best: { match: RegExpExecArray; at: number } | undefined;
  for (const name of names) {
    const match = pattern.exec(name);
    if (!match) continue;
    const at = modified(join(dir, name));
    if (at >= sinceMs - MTIME_LAG_MS && (!best || at > best.at)) best = { match, at };
  }
  return best?.match;
}

/** The top-level session (not a subagent's) of an opencode database updated last since `sinceMs`. */
export function newestOpencodeSession(db: string, sinceMs: number): string | undefined {
  try {
    const d = new Database(db, { readonly: true });
    try {
      const row = d.query("SELECT id FROM session WHERE parent_id IS NULL AND time_updated >= ? ORDER BY time_updated DESC LIMIT 1").get(sinceMs - MTIME_LAG_MS) as { id: string } | null;
      return row?.id;
    } finally {
      d.close();
    }
  } catch {
    return undefined; // no database yet, or another layout: no hint rather than a wrong one
  }
}

/** A UUID, as Codex, Gemini CLI and Qwen Code name their sessions. */
export const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

// --- internal ---

function modified(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}
