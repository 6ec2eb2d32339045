// Claude Code's config dir for a cld mode (CLAUDE_CONFIG_DIR = ~/.cache/cld/cp, …/ag), made
// ready before Claude Code starts. A dir that never finished onboarding makes Claude Code check
// its connection to api.anthropic.com — not the gateway — and exit when that host is out of
// reach, the normal case behind a firewall. So cld marks onboarding done, carries the user's look
// and feel and folder trust over from their own ~/.claude.json, approves (ag) or un-rejects (cp)
// the key it passes, and touches nothing else. README "What cld writes" lists every key.

import { dirname, join } from "node:path";
import { say } from "../../../cld/say.ts";
import { writeFileAtomic } from "../../../fs/atomic-write.ts";
import { fsWhy, writeProblem } from "../../../fs/why.ts";
import type { Env } from "../../../config/env.ts";
import { isObject } from "../../../json/object.ts";
import { readDocument } from "../../home.ts";

type Json = Record<string, unknown>;

/**
 * Preferences copied from the user's own config when cld's has none of its own yet: how Claude
 * Code looks and behaves, never credentials (`primaryApiKey`, `oauthAccount`, `apiKeyHelper`) and
 * never `env`, which could point Claude Code past the gateway.
 */
const COPIED_PREFERENCES = [
  "theme",
  "editorMode",
  "verbose",
  "preferredNotifChannel",
  "autoCompactEnabled",
  "diffTool",
  "showTurnDuration",
  "respectGitignore",
  "shiftEnterKeyBindingInstalled",
  "bypassPermissionsModeAccepted",
] as const;

interface HomeNeeds {
  /** The user's own `.claude.json` (parsed), or undefined when they have none. */
  readonly user: Json | undefined;
  /** An ANTHROPIC_API_KEY cld hands over (ag): approved, so Claude Code does not ask about it. */
  readonly approveKey?: string;
  /** Keys to take off the rejected list: the gateway key an older cld sent as ANTHROPIC_API_KEY. */
  readonly unrejectKeys?: readonly string[];
}

/** Claude Code remembers a key by its last 20 characters. */
const keyMark = (key: string) => key.trim().slice(-20);

/** The config with what cld needs merged in, or null when it already has all of it (pure). */
function readyConfig(current: Json, needs: HomeNeeds): Json | null {
  const next: Json = { ...current };
  next.hasCompletedOnboarding = true;
  for (const k of COPIED_PREFERENCES) if (!(k in next) && needs.user && k in needs.user) next[k] = needs.user[k];
  next.projects = withTrust(current.projects, needs.user?.projects);
  next.customApiKeyResponses = keyResponses(current.customApiKeyResponses, needs);
  return JSON.stringify(next) === JSON.stringify(current) ? null : next;
}

/**
 * Read `DIR/.claude.json`, merge, write it back atomically when something changed. A file that
 * does not parse is left alone (Claude Code keeps backups of its own and repairs it). The user's
 * own file can run to megabytes: it is read only when it can add something, on a first launch or
 * in a folder cld's config does not trust yet. One that cannot be written (a full disk) is said in
 * a line and left as it was: Claude Code starts all the same, as it would without cld.
 */
export async function prepareHome(dir: string, env: Env, needs: Omit<HomeNeeds, "user">): Promise<void> {
  const file = join(dir, ".claude.json");
  const current = readDocument(file) ?? {};
  if (current === "unreadable") return;
  const settled = current.hasCompletedOnboarding === true && trusts(current, process.cwd());
  const next = readyConfig(current, { ...needs, user: settled ? undefined : userConfig(env) });
  if (!next) return;
  await writeFileAtomic(file, `${JSON.stringify(next, null, 2)}\n`, 0o600).catch((e) => {
    if (fsWhy(e) === undefined) throw e;
    say(`${writeProblem(file, e)} — Claude Code starts with it as it was`);
  });
}

/** The user's own Claude Code state: `$CLAUDE_CONFIG_DIR/.claude.json` of their shell, else ~/.claude.json. */
function userConfig(env: Env): Json | undefined {
  const file = env.CLAUDE_CONFIG_DIR ? join(env.CLAUDE_CONFIG_DIR, ".claude.json") : join(env.HOME ?? "", ".claude.json");
  const j = readDocument(file);
  return j === "unreadable" ? undefined : j;
}

// --- internal ---

/** Claude Code trusts a folder when it or a folder above it was trusted. */
function trusts(config: Json, cwd: string): boolean {
  const projects = isObject(config.projects) ? config.projects : {};
  for (let d = cwd; ; d = dirname(d)) {
    const p = projects[d];
    if (isObject(p) && p.hasTrustDialogAccepted === true) return true;
    if (dirname(d) === d) return false;
  }
}

/** Folders the user already trusted in their own config are trusted here too; nothing is untrusted. */
function withTrust(ours: unknown, theirs: unknown): Json {
  const out: Json = isObject(ours) ? { ...ours } : {};
  if (!isObject(theirs)) return out;
  for (const [path, p] of Object.entries(theirs)) {
    if (!isObject(p) || p.hasTrustDialogAccepted !== true) continue;
    const mine = isObject(out[path]) ? (out[path] as Json) : {};
    if (mine.hasTrustDialogAccepted !== true) out[path] = { ...mine, hasTrustDialogAccepted: true };
  }
  return out;
}

function keyResponses(current: unknown, needs: HomeNeeds): Json {
  const c = isObject(current) ? current : {};
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
  const unreject = new Set([...(needs.unrejectKeys ?? []), ...(needs.approveKey ? [needs.approveKey] : [])].map(keyMark));
  const approved = list(c.approved);
  const mark = needs.approveKey ? keyMark(needs.approveKey) : undefined;
  return {
    ...c,
    approved: mark && !approved.includes(mark) ? [...approved, mark] : approved,
    rejected: list(c.rejected).filter((k) => !unreject.has(k)),
  };
}
