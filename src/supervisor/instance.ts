// One supervised instance: start, wait until it answers, restart with backoff when it exits,
// stop in order. All decisions about delays come from backoff.ts.
import type { Config, InstanceConfig } from "../config/types.ts";
import type { Availability } from "../lb/hold.ts";
import { UnsafePathError } from "../fs/private.ts";
import { FRESH_BACKOFF, onExit } from "./backoff.ts";
import { launchFor } from "./launch.ts";
import { deniedPort, describeHolder, portTaken } from "./ports.ts";
import { waitReady } from "./ready.ts";
import { type Child, type ExitInfo, exitStatus, monoNow, spawnChild, SpawnError, stopChild } from "./spawn.ts";
import type { Timing } from "./timing.ts";
import { lastLogLine, runVersion } from "./logtail.ts";
import { keylessInternalWarning } from "../cliproxy/keyless-internal.ts";
import { groupListensOn, processRuns } from "./proc.ts";
import { instanceCwd } from "./paths.ts";

export type InstanceState = "starting" | "ready" | "unready" | "backoff" | "crashloop" | "failed" | "stopping" | "stopped";

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface InstanceDeps {
  readonly timing: Timing;
  readonly env: Record<string, string | undefined>;
  readonly log: Logger;
  readonly logFile: (name: string) => string;
  /** A child appeared or went away (the registry of pids for orphan cleanup follows). */
  readonly childrenChanged: () => void;
  /**
   * The instance went away and will be back (a restart, a respawn, a start), is back (ready), or
   * is not coming back soon: the LB holds its requests meanwhile (lb/hold.ts).
   */
  readonly availability?: (name: string, a: Availability) => void;
}

export interface StartOutcome {
  readonly ok: boolean;
  readonly ms: number;
}

/** How long a look waits for the exit of a process found gone to be delivered (it is due at once). */
const EXIT_NOTICE_MS = 1_000;

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Whether the instance's own processes (spawn.ts starts each in a group of its own) listen on its
 * port (ready.ts); not asked where /proc cannot tell (macOS), as foreignListeners is not.
 */
const ownsPortOf = (child: Child, port: number) => (process.platform === "linux" ? () => groupListensOn(child.pid, port) : undefined);

export class SupervisedInstance {
  state: InstanceState = "stopped";
  child: Child | null = null;
  restarts = 0;
  lastExit: ExitInfo | null = null;
  /** The last problem, as the one line the user sees ("" when none). */
  problem = "";
  /** The same without when gw tries again: what a gw that gave up and stopped says (health.ts reasonsNotReady). */
  problemOnceStopped = "";
  /** What the LB was last told (deps.availability); an LB that starts later is told this first. */
  availability: Availability = "lost";
  private backoff = FRESH_BACKOFF;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopping = false;
  /** During an upgrade's hand-over: exits are recorded, not acted upon (the successor may own it). */
  private suspended = false;
  /** Bumped by every stop: an exit report still in progress from before it must not act. */
  private epoch = 0;
  private probing: AbortController | undefined;

  constructor(
    public config: Config,
    public inst: InstanceConfig,
    private readonly deps: InstanceDeps,
  ) {}

  get name(): string {
    return this.inst.name;
  }

  /** On its way (a reload added it; its start may wait for a port): requests for it wait, until it is ready or lost. */
  expect(): void {
    this.announce("away");
  }

  /** First start (or a manual one): resolves once it is ready or has clearly failed. */
  start(): Promise<StartOutcome> {
    this.stopping = false;
    return this.launch();
  }

  /**
   * A reload relaunches or removes the instance: a start of it under way is given up at once — it
   * spawns nothing more and stops waiting for an answer — rather than holding the relaunch, queued
   * behind it, for up to readyTimeoutMs and then saying it did not answer. The relaunch or stop
   * that follows stops its process; until then it stays away (requests wait for the new launch).
   */
  abandonStart(): void {
    if (this.state === "starting" || !this.child) this.probing?.abort();
  }

  /** Stop for good (removed from the config, gw stopping): requests waiting for it go on. */
  async stop(): Promise<void> {
    await this.halt();
    this.announce("lost");
  }

  private async halt(): Promise<void> {
    this.stopping = true;
    this.epoch++;
    clearTimeout(this.timer);
    this.probing?.abort();
    const child = this.child;
    if (child) {
      this.state = "stopping";
      await stopChild(child, this.deps.timing.killWaitMs);
    }
    this.state = "stopped";
  }

  /** Take over a running process (an upgrade's predecessor started it): watch it, do not restart it. */
  adopt(child: Child): Promise<StartOutcome> {
    this.stopping = false;
    this.deps.log.info(`${this.name}: adopted pid ${child.pid} on port ${this.inst.port} (kept running through the upgrade)`);
    return this.watch(child, monoNow());
  }

  /** Stop acting on exits and timers; the process runs on. resume() takes it back. */
  suspend(): void {
    this.suspended = true;
    this.epoch++;
    clearTimeout(this.timer);
    this.probing?.abort();
  }

  /** Supervise again after suspend(); an instance that exited meanwhile is started. */
  resume(): void {
    if (!this.suspended) return;
    this.suspended = false;
    if (this.child || this.stopping) return;
    this.restarts++;
    this.relaunch();
  }

  /** Hand the process on for good (after an upgrade): no supervision, and this gw may exit. */
  release(): void {
    this.suspend();
    this.child?.release();
  }

  /** Manual restart: a clean slate for the backoff, counted like any restart. */
  async restart(): Promise<StartOutcome> {
    await this.stopToRestart();
    return this.startAgain();
  }

  /** The first half of a restart (a move's, on the old port): the process stops, requests for it wait. */
  async stopToRestart(): Promise<void> {
    this.announce("away");
    await this.halt();
  }

  /** The second half (on the new port, once free). */
  startAgain(): Promise<StartOutcome> {
    this.backoff = FRESH_BACKOFF;
    this.restarts++;
    return this.start();
  }

  /**
   * A connection of the LB to this instance failed before any answer: when its process is gone,
   * take the exit now — it is then away (respawning) or lost (crash loop) — rather than when the
   * exit event or an adopted process's next poll comes. Costs one /proc read while it runs.
   */
  async look(): Promise<void> {
    const child = this.child;
    if (!child || this.suspended || (await processRuns(child.pid))) return;
    child.lookNow?.();
    // onChildExit runs first: it was attached to `exited` when the process was taken on.
    await Promise.race([child.exited, Bun.sleep(EXIT_NOTICE_MS)]);
  }

  /** Tell the LB, once per change. */
  private announce(a: Availability): void {
    if (a === this.availability) return;
    this.availability = a;
    this.deps.availability?.(this.name, a);
  }

  private fail(state: InstanceState, problem: string, availability: Availability = "lost", retry = ""): StartOutcome {
    if (problem + retry !== this.problem) this.deps.log.error(problem + retry);
    [this.problem, this.problemOnceStopped] = [problem + retry, problem];
    this.state = state;
    this.announce(availability);
    return { ok: false, ms: 0 };
  }

  private async launch(): Promise<StartOutcome> {
    const { inst, deps } = this;
    const t0 = monoNow();
    // Aborted by a stop, or by abandonStart: before the spawn as while the start waits for an answer.
    const probing = (this.probing = new AbortController());
    const cutShort = () => this.stopping || probing.signal.aborted;
    const launch = launchFor(this.config, inst, deps.env);
    if ("error" in launch) return this.fail("failed", launch.error);
    const taken = await portTaken(inst.port);
    if (taken === "denied") return this.fail("failed", `port ${inst.port} of instance '${inst.name}' ${deniedPort()} — set [instances.${inst.name}] port to 1024 or above`);
    if (taken === "busy") {
      if (cutShort()) return { ok: false, ms: 0 };
      const holder = await describeHolder(inst.port);
      // Nothing ran, so nothing crashed: the user is told to free the port, and once they have,
      // the instance must start within portRetryMs — not after a crash loop's five minutes.
      this.retryIn(deps.timing.portRetryMs);
      // Whatever holds the port is not this instance: the LB sends it nothing (hold.ts "taken").
      return this.fail(this.backoff.crashLoop ? "crashloop" : "backoff", `port ${inst.port} of instance '${inst.name}' is in use${holder} — change [instances.${inst.name}] port or stop that process`, "taken", ` (gw looks again every ${deps.timing.portRetryMs / 1000} s)`);
    }
    if (cutShort()) return { ok: false, ms: 0 };
    let child: Child;
    try {
      child = spawnChild({ name: inst.name, argv: launch.argv, shown: launch.shown, cwd: instanceCwd(this.config.dir, inst.name), env: deps.env, logFile: deps.logFile(inst.name) });
    } catch (err) {
      if (err instanceof UnsafePathError) return this.fail("failed", `instance '${inst.name}' not started: ${err.message}`);
      if (!(err instanceof SpawnError)) throw err;
      return this.fail("failed", `instance '${inst.name}' could not start ${launch.argv[0]}: ${err.message} — check [instances.${inst.name}] command / [global] cliproxy`);
    }
    deps.log.info(`${inst.name}: started pid ${child.pid} on port ${inst.port}`);
    return this.watch(child, t0, probing);
  }

  /** From a fresh or adopted process: follow its exit, wait until it answers (or `probing` aborts). */
  private async watch(child: Child, t0: number, probing = new AbortController()): Promise<StartOutcome> {
    const { inst, deps } = this;
    this.child = child;
    this.state = "starting";
    this.announce("away");
    deps.childrenChanged();
    void child.exited.then((info) => this.onChildExit(child, info));
    this.probing = probing;
    const t = deps.timing;
    const outcome = await waitReady(inst.baseUrl, inst.apiKey, { timeoutMs: t.readyTimeoutMs, pollMs: t.readyPollMs, exited: child.exited, cancel: probing.signal, ownsPort: ownsPortOf(child, inst.port) });
    const ms = Math.round(monoNow() - t0);
    if (outcome === "ready") {
      this.state = "ready";
      [this.problem, this.problemOnceStopped] = ["", ""];
      this.announce("ready");
      await this.sayIfKeyless();
      deps.log.info(`${inst.name}: ready in ${secs(ms)}`);
      return { ok: true, ms };
    }
    if (outcome === "timeout") {
      void this.probeUntilReady(child, t0);
      return this.fail("unready", `instance '${inst.name}' (pid ${child.pid}) did not answer on port ${inst.port} within ${secs(t.readyTimeoutMs)} — see logs/${inst.name}.log`);
    }
    // "exited": onChildExit has said so and scheduled the retry; "cancelled": a stop or a reload's relaunch came first.
    return { ok: false, ms };
  }

  /** Keep an unready instance under watch: it may just be slow (first login, big auth dir). */
  private async probeUntilReady(child: Child, t0: number): Promise<void> {
    const signal = this.probing?.signal;
    const outcome = await waitReady(this.inst.baseUrl, this.inst.apiKey, { timeoutMs: Infinity, pollMs: 1000, exited: child.exited, cancel: signal, ownsPort: ownsPortOf(child, this.inst.port) });
    if (outcome === "ready" && this.child === child) {
      this.state = "ready";
      [this.problem, this.problemOnceStopped] = ["", ""];
      this.announce("ready");
      await this.sayIfKeyless();
      this.deps.log.info(`${this.name}: ready after ${secs(monoNow() - t0)}`);
    }
  }

  /** A build that serves /v1internal:* without a key to any page in the user's browser is said once it runs (cliproxy/keyless-internal.ts). */
  private async sayIfKeyless(): Promise<void> {
    const warning = keylessInternalWarning(await runVersion(this.deps.logFile(this.inst.name)));
    if (warning) this.deps.log.warn(`${this.inst.name}: ${warning}`);
  }

  private onChildExit(child: Child, info: ExitInfo): void {
    if (this.child !== child) return;
    this.child = null;
    this.lastExit = info;
    this.deps.childrenChanged();
    if (this.stopping || this.suspended) return;
    this.probing?.abort();
    // Requests waiting for this start go on (to the usual error or another target): a request
    // waits for one start, never through a crash loop. New ones wait for the respawn, unless
    // the backoff calls it a crash loop (scheduleRetry).
    this.announce("lost");
    this.announce("away");
    void this.reportExit(child, info, this.epoch);
  }

  /** Say why it exited (its log's last words are usually the reason), then schedule the restart. */
  private async reportExit(child: Child, info: ExitInfo, epoch: number): Promise<void> {
    const lastWords = await lastLogLine(this.deps.logFile(this.name));
    if (this.stopping || this.suspended || this.child || epoch !== this.epoch) return; // stopped, restarted or handed over meanwhile
    const ranMs = info.at - child.startedAt;
    const uptime = secs(ranMs);
    const delay = this.scheduleRetry(ranMs);
    const loop = `crash loop (${this.backoff.exits.length} exits in a minute)`;
    const what = this.state === "crashloop" ? `${loop}, next try in ${secs(delay)}` : `restarting in ${secs(delay)}`;
    const said = lastWords ? `; logs/${this.name}.log ends: ${lastWords}` : `; see logs/${this.name}.log`;
    const exited = `instance '${this.name}' exited (${exitStatus(info)}) after ${uptime}`;
    this.problem = `${exited} — ${what}${said}`;
    this.problemOnceStopped = `${exited}${this.state === "crashloop" ? ` — ${loop}` : ""}${said}`;
    this.deps.log.warn(this.problem);
  }

  private scheduleRetry(uptimeMs: number): number {
    const d = onExit(this.backoff, uptimeMs, monoNow(), this.deps.timing);
    this.backoff = d.state;
    this.state = d.state.crashLoop ? "crashloop" : "backoff";
    if (d.state.crashLoop) this.announce("lost");
    this.retryIn(d.delayMs, true);
    return d.delayMs;
  }

  /** Launch again after `delayMs`; `restart` counts it as a restart (it follows an exit). */
  private retryIn(delayMs: number, restart = false): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.stopping || this.suspended) return;
      if (restart) this.restarts++;
      this.relaunch();
    }, delayMs);
  }

  /**
   * Launch again after an exit or a hand-over. An error launch() did not expect (EMFILE while gw
   * is short of file handles) is said and tried again later: left as it was, the instance stayed
   * down for good.
   */
  private relaunch(): void {
    this.launch().catch((e: Error) => {
      const delay = this.deps.timing.backoffMaxMs;
      this.fail("failed", `instance '${this.name}' could not be restarted: ${e.message} — gw tries again in ${secs(delay)}`);
      this.retryIn(delay, true);
    });
  }
}
