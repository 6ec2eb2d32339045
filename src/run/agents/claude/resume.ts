// `cld --resume ID`: what Claude Code's exit hint says under cld (CLAUDE_CODE_RESUME_HINT_COMMAND).
// The session lives in the config dir of the mode it ran in (…/cld/cp/projects/<folder>/ID.jsonl,
// …/cld/ag/…, the user's own ~/.claude/… for official), so that dir tells which mode to resume it
// in, without asking.
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { packageVersion, realCommand, VERSION, versionAtLeast } from "../installed.ts";

/** The session id after `--resume` / `-r` in claude's arguments, when one is given. */
export function resumedSession(claudeArgs: readonly string[]): string | undefined {
  for (let i = 0; i < claudeArgs.length; i++) {
    const a = claudeArgs[i]!;
    if (a.startsWith("--resume=")) return sessionId(a.slice("--resume=".length));
    if (a === "--resume" || a === "-r") return sessionId(claudeArgs[i + 1]);
  }
  return undefined;
}

/** Where Claude Code keeps its sessions under `env`: $CLAUDE_CONFIG_DIR (cld sets it for cp and ag), else ~/.claude (official: the user's own). */
export function claudeConfigDir(env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (env.CLAUDE_CONFIG_DIR) return env.CLAUDE_CONFIG_DIR;
  return env.HOME ? join(env.HOME, ".claude") : undefined;
}

/**
 * Which of `dirs` (Claude Code config dirs) holds the session; held by two (a file copied across to
 * go on in another mode), the one written last: where the exit hint naming it came from.
 */
export function dirHoldingSession(dirs: readonly string[], id: string): string | undefined {
  let best: { dir: string; at: number } | undefined;
  for (const dir of dirs) {
    for (const folder of safeList(join(dir, "projects"))) {
      const file = join(dir, "projects", folder, `${id}.jsonl`);
      if (!existsSync(file)) continue;
      const at = mtimeOf(file);
      if (!best || at > best.at) best = { dir, at };
    }
  }
  return best?.dir;
}

/** Session ids are UUIDs; anything else (a search term, a path) is not looked up on disk. */
const sessionId = (s: string | undefined) => (s && /^[0-9a-f-]{8,64}$/i.test(s) ? s : undefined);

/**
 * Claude Code reads CLAUDE_CODE_RESUME_HINT_COMMAND from 2.1.323 on; older versions print
 * `claude --resume ID`, which would leave the gateway. For them cld stays the parent and prints
 * its own hint once claude exits (launch.ts).
 */
const HINT_COMMAND_SINCE = "2.1.323";

/** The installed Claude Code's version from its install layout (npm package or native installer), else undefined. */
export function claudeVersion(claudePath: string): string | undefined {
  const real = realCommand(claudePath);
  if (real === undefined) return undefined;
  if (basename(dirname(real)) === "versions" && VERSION.test(basename(real))) return basename(real);
  return packageVersion(real, "@anthropic-ai/claude-code");
}

/** Whether Claude Code itself names cld in its exit hint; unknown versions are taken to be current. */
export const printsCldHint = (version: string | undefined): boolean => versionAtLeast(version, HINT_COMMAND_SINCE);

/**
 * How far a file's mtime may lag the clock `sinceMs` is read from: Linux stamps files from a coarse
 * clock (the last timer tick, up to 10 ms behind at HZ=100; 6 ms measured here) while Date.now() is
 * exact, so a session written within a tick of the launch looked older than the launch and its
 * resume hint was left out (test/cld/run.test.ts, test/install/install.test.ts failed now and then).
 */
export const MTIME_LAG_MS = 50;

/** The session written to last since `sinceMs` in a Claude Code config dir: the one that just ran. */
export function latestSession(configDir: string, sinceMs: number): string | undefined {
  let best: { id: string; at: number } | undefined;
  const projects = join(configDir, "projects");
  for (const folder of safeList(projects)) {
    for (const f of safeList(join(projects, folder))) {
      if (!f.endsWith(".jsonl")) continue;
      const at = mtimeOf(join(projects, folder, f));
      if (at >= sinceMs - MTIME_LAG_MS && (!best || at > best.at)) best = { id: f.slice(0, -".jsonl".length), at };
    }
  }
  return best?.id;
}

// --- internal ---

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}
