// Upgrading a running gw without dropping anything. The running gw (the predecessor) starts the
// new binary as its successor with GW_TAKEOVER naming itself; the successor adopts the running
// instances (not restarted: logins, sticky sessions and OAuth state stay), binds the LB port
// beside it (SO_REUSEPORT) and steers new connections to itself, takes the control socket and
// the pid file, and says it serves. Then — and only then — the predecessor commits over the
// successor's stdin and hands off: it finishes its streams in flight (shutdown_grace_ms) and
// exits, leaving the instances running. Anything short of that and the predecessor aborts,
// takes its files back and serves on as if nothing happened.
import pkg from "../../package.json" with { type: "json" };
import { CliError } from "../cli/errors.ts";
import { type DetachOutcome, type GwProcess, spawnGw, waitServing } from "./daemon.ts";
import { runningGw } from "./orphans.ts";
import type { GwPaths } from "./paths.ts";
import { outputUntilExit } from "../sys/exit-output.ts";
import { procInfo, signalGroup } from "./proc.ts";
import { DAEMON_START_TIMEOUT_MS } from "./timing.ts";
import { handOffLimitMs } from "../lb/server.ts";

export const TAKEOVER_ENV = "GW_TAKEOVER";
/** The predecessor's shutdown_grace_ms, which its hand-off uses (the successor's config may say another). */
export const TAKEOVER_GRACE_ENV = "GW_TAKEOVER_GRACE_MS";

/** How long an aborted successor gets to let go before it is killed. */
const ABORT_WAIT_MS = 10_000;
/** The longest a hand-over lasts on the old gw's side: the new gw's start, then its abort. */
export const HAND_OVER_MAX_MS = DAEMON_START_TIMEOUT_MS + ABORT_WAIT_MS;
/** `PATH --version --json` must answer within this to count as a gw. */
const VERSION_PROBE_MS = 20_000;

interface Predecessor {
  readonly pid: number;
  readonly startTime: number;
  /** Its grace period (undefined: a gw from before it said so). */
  readonly graceMs?: number;
}

/** The gw this process was started to take over, from its environment (null: a normal start). */
export function takeoverFrom(env: Record<string, string | undefined>): Predecessor | null {
  const m = /^(\d+):(\d+)$/.exec(env[TAKEOVER_ENV] ?? "");
  const grace = /^\d+$/.test(env[TAKEOVER_GRACE_ENV] ?? "") ? Number(env[TAKEOVER_GRACE_ENV]) : undefined;
  return m ? { pid: Number(m[1]), startTime: Number(m[2]), ...(grace !== undefined && { graceMs: grace }) } : null;
}

/** Beyond its hand-off's limit, what an old gw does before it has exited (its state and log written). Kept small: with the same grace period, a stop that waits for it still ends within the unit's TimeoutStopSec (service.ts). */
const PREDECESSOR_EXIT_MARGIN_MS = 3_000;

/**
 * How long from `now` a successor stopping soon after the upgrade waits for its predecessor to
 * exit (the instances stop only then): up to the predecessor's own limit, counted from the
 * hand-over — a late keep-alive request gets it a whole grace period (lb/server.ts handOff) — and
 * a margin to exit. `graceMs` is the predecessor's grace period.
 */
export function predecessorWaitMs(handedOverAt: number, graceMs: number, now: number): number {
  return Math.max(0, handedOverAt + handOffLimitMs(graceMs) + PREDECESSOR_EXIT_MARGIN_MS - now);
}

/** The predecessor must be the very gw recorded for this directory, and alive. */
export async function verifyPredecessor(paths: GwPaths, p: Predecessor): Promise<void> {
  const running = await runningGw(paths);
  if (running?.pid !== p.pid || running.startTime !== p.startTime) {
    throw new CliError(`nothing to take over: gw pid ${p.pid} is not the gw running for ${paths.dir}`, 1, "run gw upgrade against the running gw");
  }
}

/**
 * The successor's wait for the predecessor's verdict on stdin: "commit" (it hands off) or
 * "abort" (it keeps serving). A predecessor that is gone without a word left everything to us.
 */
export async function awaitVerdict(p: Predecessor): Promise<"commit" | "abort"> {
  let text = "";
  const dec = new TextDecoder();
  for await (const chunk of Bun.stdin.stream()) {
    text += dec.decode(chunk, { stream: true });
    if (/^commit$/m.test(text)) return "commit";
    if (/^abort$/m.test(text)) return "abort";
  }
  const alive = await procInfo(p.pid);
  return alive && alive.startTime === p.startTime ? "abort" : "commit";
}

/** True once the predecessor has exited (it lets its streams finish first), false if it is still there after `timeoutMs`. */
export async function predecessorGone(p: Predecessor, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const info = await procInfo(p.pid);
    if (!info || info.startTime !== p.startTime) return true;
    if (performance.now() > deadline) return false;
    await Bun.sleep(250);
  }
}

/** This gw's version when `version` (a successor's) is older: a rollback. Undefined otherwise, or when either is not a version. */
export function olderThanThis(version: string, mine: string = pkg.version): string | undefined {
  try {
    return Bun.semver.order(version, mine) < 0 ? mine : undefined;
  } catch {
    return undefined;
  }
}

/** What a gw binary says it is (`--version --json`), or why it is not one. */
export async function probeBinary(argv: readonly string[]): Promise<{ version: string; commit: string } | { error: string }> {
  try {
    const proc = Bun.spawn([...argv, "--version", "--json"], { stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: VERSION_PROBE_MS });
    // Until it exits: a child it left in the background may hold its pipes for long.
    const { out, err, code } = await outputUntilExit(proc);
    if (code !== 0) return { error: `${argv[0]} --version failed (exit ${code}): ${(err || out).trim().split("\n")[0]}` };
    let info: { version?: string; commit?: string } = {};
    try {
      info = JSON.parse(out) as typeof info;
    } catch {}
    return info.version ? { version: info.version, commit: info.commit ?? "unknown" } : { error: `${argv[0]} does not say a gw version (not a gw binary?)` };
  } catch (e) {
    const { foreignBinary } = await import("../release/inspect.ts");
    const why = await foreignBinary(argv[0]!);
    return { error: `${argv[0]} cannot run here: ${why || (e as Error).message.split("\n")[0]}` };
  }
}

interface SuccessorOutcome extends DetachOutcome {
  /** One line: why the hand-over did not happen. */
  readonly problem?: string;
}

/**
 * Predecessor side: start the successor, wait until it serves, then commit — or abort and make
 * sure it is gone. `self` is this gw's pid file record.
 */
export async function runSuccessor(paths: GwPaths, argv: string[], env: Record<string, string | undefined>, self: Predecessor, progress: (line: string) => void): Promise<SuccessorOutcome> {
  const p: GwProcess = await spawnGw(paths, argv, { ...env, [TAKEOVER_ENV]: `${self.pid}:${self.startTime}`, [TAKEOVER_GRACE_ENV]: self.graceMs === undefined ? undefined : String(self.graceMs) }, "pipe");
  const stdin = p.proc.stdin as import("bun").FileSink;
  /** A successor that has exited has closed its stdin: writing then fails, which is fine. */
  const tell = async (verdict: string) => {
    try {
      stdin.write(`${verdict}\n`);
      await stdin.end();
    } catch {}
  };
  let said = "";
  // The reason is its last line of its own, not an indented hint under it (a refusal's "fix …").
  const out = await waitServing(paths, p, (line) => ((said = /^\s/.test(line) ? said : line), progress(line)), DAEMON_START_TIMEOUT_MS);
  if (out.ok) {
    await tell("commit");
    return out;
  }
  await tell("abort");
  // A timer cleared once the successor is gone, not Bun.sleep: a sleep left pending kept this gw
  // alive at its exit until the sleep ran out (gw down after a failed upgrade took ~10 s).
  let timer: Timer | undefined;
  const gone = await Promise.race([p.proc.exited.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), ABORT_WAIT_MS)))]);
  clearTimeout(timer);
  if (!gone) signalGroup(p.proc.pid, "SIGKILL");
  const why = out.timedOut ? `did not serve within ${DAEMON_START_TIMEOUT_MS / 1000} s` : out.signal ? `was killed by ${out.signal}` : `exited with code ${out.exitCode}`;
  const last = said ? ` (${said.trim()})` : "";
  return { ...out, problem: `the new gw (pid ${p.proc.pid}) ${why}${last} — see ${paths.gwLog}; this gw keeps serving` };
}
