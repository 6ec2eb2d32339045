// Hand the terminal to the agent (Claude Code, Codex, …). execve keeps the PID and the TTY, so job control,
// signals and the exit code are claude's own; spawning is the fallback where execve is missing.
import { CliError } from "../cli/errors.ts";
import type { ChildEnv } from "./env.ts";
import type { Env } from "./memory.ts";

export const CLAUDE_INSTALL = "npm install -g @anthropic-ai/claude-code";

export function findClaude(env: Env): string {
  return findCommand("claude", "claude (Claude Code)", CLAUDE_INSTALL, env);
}

/** An agent's executable on the user's PATH, or the one-line way to install it (exit 127, as a shell). */
export function findCommand(command: string, label: string, install: string, env: Env): string {
  const path = Bun.which(command, { PATH: env.PATH ?? "" });
  if (!path) throw new CliError(`${label} is not on PATH; install it: ${install}`, 127);
  return path;
}

type Execve = (file: string, args: string[], env: Record<string, string>) => never;

export async function handOver(claude: string, args: readonly string[], env: ChildEnv): Promise<number> {
  const execve = (process as unknown as { execve?: Execve }).execve;
  if (typeof execve === "function") {
    try {
      execve(claude, [claude, ...args], env);
    } catch {
      // fall through to spawning (e.g. a platform where execve is a stub)
    }
  }
  return spawnAndForward(claude, args, env);
}

/** Signals a terminal user or a supervisor may send us that the agent must get too. */
const FORWARDED = ["SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;

export async function spawnAndForward(claude: string, args: readonly string[], env: ChildEnv): Promise<number> {
  // Ctrl-C reaches claude from the terminal itself (same process group); forwarding it too
  // would count as a second Ctrl-C, which makes Claude Code quit. So only survive it.
  // The handlers are in place before claude starts: set after, a Ctrl-C in the moment between
  // (claude already running, this process not yet back from the spawn on a busy machine) killed
  // this process and cut claude off from its exit code.
  const ignoreInt = () => {};
  process.on("SIGINT", ignoreInt);
  let child: Bun.Subprocess | undefined;
  const forwarders = FORWARDED.map((sig) => {
    const f = () => child?.kill(sig);
    process.on(sig, f);
    return [sig, f] as const;
  });
  try {
    child = Bun.spawn([claude, ...args], { env, stdio: ["inherit", "inherit", "inherit"] });
    return await child.exited;
  } finally {
    process.off("SIGINT", ignoreInt);
    for (const [sig, f] of forwarders) process.off(sig, f);
  }
}
