// The mode menu and the two modes that ask nothing (ag, official).
import { join } from "node:path";
import { CliError } from "../cli/errors.ts";
import type { Mode } from "./args.ts";
import { claudeHonoursNoProxy } from "../run/agents/claude/no-proxy.ts";
import { claudeConfigDir, dirHoldingSession, resumedSession } from "../run/agents/claude/resume.ts";
import { isLoopback } from "../config/loopback.ts";
import { AG_DEFAULTS, agBase, agEnv, type ChildEnv, officialEnv } from "./env.ts";
import { agentHome, type Env, readLast, writeLast } from "./memory.ts";
import { pick } from "./picker.ts";
import { gatewayAnswers } from "./probe.ts";

/** What to launch: the child's environment, the terminal title, and where the session runs (for the resume hint). */
interface Plan {
  readonly env: ChildEnv;
  readonly title: string;
  readonly via: string;
}

const MODE_CHOICES = [
  { key: "cp", detail: "through the gw gateway (route scenarios)" },
  { key: "ag", detail: "straight to the Antigravity proxy" },
  { key: "official", detail: "Anthropic's own service, nothing injected" },
] as const;

/** Menu of the three modes; the answer is remembered in cld/last_mode. */
export async function pickMode(cache: string, env: Env): Promise<Mode> {
  const { mode: last } = readLast(cache, ["mode"]);
  const chosen = await pick({ title: "Mode", choices: MODE_CHOICES, last, path: env.PATH });
  // Esc with no last mode to reuse: the way past the menu, for next time.
  if (!chosen) throw new CliError(`no mode chosen — name one to skip the menu: ${MODE_CHOICES.map((m) => `cld ${m.key}`).join(" · ")}`, 130);
  return chosen.key as Mode;
}

export function rememberMode(cache: string, mode: Mode): void {
  writeLast(cache, { mode });
}

/** `cld --resume ID`: the mode whose config dir holds that session (cp, ag, the user's own for official), so nothing is asked. */
export function modeOfSession(cache: string, claudeArgs: readonly string[], env: Env): Mode | undefined {
  const id = resumedSession(claudeArgs);
  if (!id) return undefined;
  const dirs: [Mode, string | undefined][] = [["cp", join(cache, "cp")], ["ag", join(cache, "ag")], ["official", claudeConfigDir(env)]];
  const dir = dirHoldingSession(dirs.flatMap(([, d]) => (d === undefined ? [] : [d])), id);
  return dirs.find(([, d]) => d === dir)?.[0];
}

/** Antigravity takes its token as ANTHROPIC_API_KEY, so the config dir approves it in advance. */
export async function planAg(env: Env, cache: string, claude: string): Promise<Plan> {
  const token = env.ANTI_API_TOKEN;
  if (!token) {
    throw new CliError("ag mode needs ANTI_API_TOKEN (the Antigravity proxy's key)", 1,
      `export ANTI_API_TOKEN=…  (and ANTI_API_BASE if not ${AG_DEFAULTS.base})`);
  }
  // Claude Code retries a proxy that is not there for minutes without a word: ask first. Only a
  // local one, over plain HTTP (what the probe speaks); a remote proxy's errors are its own.
  const base = agBase(env);
  const url = URL.parse(base);
  if (url?.protocol === "http:" && isLoopback(url.hostname) && !(await gatewayAnswers(base))) {
    throw new CliError(`the Antigravity proxy at ${base} is not answering`, 1, "start it, or point ANTI_API_BASE at where it listens");
  }
  // Claude Code's config dir per mode, so gateway logins never mix with the official one.
  const dir = agentHome(cache, "ag");
  // the agents' homes (and smol-toml with them) only for ag: official and the menu do without them
  const { prepareHome } = await import("../run/agents/claude/home.ts");
  await prepareHome(dir, env, { approveKey: token });
  return { env: agEnv(env, token, dir, () => claudeHonoursNoProxy(claude)), title: "cld ag", via: "Antigravity" };
}

export function planOfficial(env: Env, claude: string): Plan {
  return { env: officialEnv(env, () => claudeHonoursNoProxy(claude)), title: "cld official", via: "Anthropic" };
}
