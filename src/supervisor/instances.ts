// The set of supervised instances: start them all, restart one or all (rolling), stop them all,
// and reconcile with a reloaded config (start added, stop removed, restart those whose launch
// changed; a mere YAML change needs nothing — CLIProxyAPI re-reads its own file).
import type { Config, InstanceConfig } from "../config/types.ts";
import { type InstanceDeps, type StartOutcome, SupervisedInstance } from "./instance.ts";
import { adoptChild } from "./adopt.ts";
import { launchFor } from "./launch.ts";
import type { ProcRecord } from "./orphans.ts";
import type { DrainReport, DrainThen } from "../lb/drain.ts";
import { InstanceWork, instanceLane, type Job, Lanes, portLane } from "./lanes.ts";

export interface RestartResult {
  readonly name: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly problem: string;
  /** The drain before the restart (absent while the LB does not serve yet). */
  readonly drain?: DrainReport;
  /** A reload added it: its first start, not a restart. */
  readonly added?: boolean;
  /** A `gw restart` a reload took over (it moved the instance meanwhile): the reload's relaunch restarted it. */
  readonly by?: "reload";
}

/** What `gw restart` hears while it runs: an instance began waiting for its requests, or has been restarted. */
export type RestartProgress =
  /** `removed`: a reload took the instance out of the config; it stops once drained, and nothing waits for it. */
  | { readonly event: "draining"; readonly name: string; readonly streams: number; readonly graceMs: number; readonly removed?: boolean }
  | { readonly event: "restarted"; readonly result: RestartResult }
  /** A later reload changed the instance again before this restart: that reload's restart (heard next) replaces it. */
  | { readonly event: "superseded"; readonly name: string; readonly drain?: DrainReport; readonly then: DrainThen };

/**
 * A deliberate restart drains the instance first (the LB's side, lb/drain.ts): new requests go
 * to other targets while those in flight finish, then the process is restarted and takes
 * requests again. Crash restarts (instance.ts) have nothing left to drain.
 */
export interface Drainer {
  /** Requests still running when `graceMs` ends are cut by gw, their error event saying what `then` follows. */
  drain(name: string, graceMs: number, onWait: (streams: number) => void, then?: DrainThen): Promise<DrainReport>;
  undrain(name: string): void;
}

/** Why `gw restart` did not restart an instance: gw began to stop (gw down, a stop signal) first. */
const NOT_RESTARTED_STOPPING = "not restarted: gw is stopping";
/** Why `gw restart` did not restart an instance: a reload meanwhile removed it (and stopped it, drained). */
const NOT_RESTARTED_REMOVED = "not restarted: a reload removed it from the config; it has stopped";

export class InstanceSet {
  private readonly byName = new Map<string, SupervisedInstance>();
  /** After stopAll nothing starts again (a reload or restart racing the shutdown). */
  private closed = false;
  /** Drains, stops and starts, one after another per instance and per port (lanes.ts). */
  private readonly lanes = new Lanes((err) => this.deps.log.error(`instance work after a reload or restart failed: ${err.message}`));
  /** Instances a reload removed that have not stopped yet (draining first). */
  private readonly leaving = new Set<SupervisedInstance>();
  /** Each instance's latest relaunch or stop queued by a reload, while it has not ended: a later reload's gives way to it. */
  private readonly reloadJobs = new Map<string, Job>();
  /** The `gw restart`s under way, for an upgrade to wait for (restartsEnded). */
  private readonly restarts = new Set<Promise<unknown>>();

  constructor(
    private config: Config,
    private readonly deps: InstanceDeps,
  ) {
    for (const inst of config.instances) if (inst.managed) this.add(inst);
  }

  list(): SupervisedInstance[] {
    return [...this.byName.values()];
  }

  get(name: string): SupervisedInstance | undefined {
    return this.byName.get(name);
  }

  /** Start every instance not yet running (adopted ones are) in parallel; one failing does not hold up the others. */
  async startAll(): Promise<Map<string, StartOutcome>> {
    const entries = await Promise.all(this.list().filter((s) => !s.child).map(async (s) => [s.name, await s.start()] as const));
    return new Map(entries);
  }

  /**
   * Take over the instances a predecessor recorded (an upgrade): those still running and still
   * in the config are watched, not restarted. Returns their names; the rest start with startAll.
   */
  async adopt(records: readonly ProcRecord[]): Promise<{ adopted: string[]; changed: string[] }> {
    const adopted: string[] = [];
    const changed: string[] = [];
    await Promise.all(
      records.map(async (rec) => {
        const s = this.byName.get(rec.name);
        const child = s && !s.child ? await adoptChild(rec, this.deps.timing.adoptedPollMs) : null;
        if (!s || !child) return;
        void s.adopt(child);
        adopted.push(s.name);
        if (rec.launch !== undefined && !sameLaunch(rec.launch, this.launchKeyOf(s))) changed.push(s.name);
      }),
    );
    return { adopted: adopted.sort(), changed: changed.sort() };
  }

  /** What the running process of this instance was started with (the config it follows). */
  launchKeyOf(s: SupervisedInstance): string {
    return this.launchKey(s.config, s.inst);
  }

  /** During a hand-over: the processes run on, unsupervised, until resumeAll or releaseAll. */
  suspendAll(): void {
    for (const s of this.list()) s.suspend();
  }

  resumeAll(): void {
    for (const s of this.list()) s.resume();
  }

  /** The successor owns them now: stop supervising for good and let this gw exit. */
  releaseAll(): void {
    this.closed = true;
    for (const s of this.list()) s.release();
  }

  /**
   * gw is stopping: no reload's or restart's work stops or starts an instance from now on (a drain
   * cut short by the stop would otherwise end in a kill that cuts its streams at once, and a
   * relaunch while gw goes away). The instances run on until stopAll, after the LB's grace.
   */
  closing(): void {
    this.closed = true;
  }

  async stopAll(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.list(), ...this.leaving].map((s) => s.stop()));
  }

  /**
   * One instance, or all of them one after another, so the others carry the traffic meanwhile.
   * With a drainer each is drained first: the requests running on it finish (up to its grace
   * period) instead of being cut by the restart.
   */
  async restart(name?: string, drainer?: Drainer, progress?: (p: RestartProgress) => void): Promise<RestartResult[]> {
    const run = this.restartEach(name, drainer, progress);
    this.restarts.add(run);
    try {
      return await run;
    } finally {
      this.restarts.delete(run);
    }
  }

  /** A `gw restart` is under way. */
  get restarting(): boolean {
    return this.restarts.size > 0;
  }

  /** Resolves once the `gw restart`s under way now have ended. */
  async restartsEnded(): Promise<void> {
    await Promise.allSettled([...this.restarts]);
  }

  private async restartEach(name: string | undefined, drainer: Drainer | undefined, progress: ((p: RestartProgress) => void) | undefined): Promise<RestartResult[]> {
    const targets = name ? [this.byName.get(name)].filter((s) => s !== undefined) : this.list();
    const results: RestartResult[] = [];
    for (const s of targets) {
      let result: RestartResult | undefined;
      if (!this.closed) {
        // In its lanes: after what a reload queued for it (its relaunch, say), never beside it.
        // Of the launch it runs: a reload that moves it meanwhile (its relaunch queued behind this)
        // takes over, rather than this starting the old port's launch from the new port's files.
        const job = this.lanes.queue([instanceLane(s.name), portLane(s.inst.port)], async (tell) => (result = await this.restartOne(s, drainer, tell, this.launchKeyOf(s))));
        if (progress) job.hearers.add(progress);
        await job.done;
        if (!result && job.said.some((p) => p.event === "superseded")) result = await this.reloadOutcome(s.name, progress);
      }
      // gw began stopping before this one was restarted: said, so that gw restart cannot end as
      // if it had happened (an empty answer looked like success).
      if (!result && this.closed) {
        result = { name: s.name, ok: false, ms: 0, problem: NOT_RESTARTED_STOPPING };
        progress?.({ event: "restarted", result });
      }
      if (result) results.push(result);
    }
    return results;
  }

  /**
   * A `gw restart` gave way to a reload's relaunch or stop of the instance (queued behind it): that
   * work, followed to its end, is the restart's outcome — an empty answer looked like success
   * while the instance might be stopped. Its progress is passed on; the relaunch's result as the
   * reload's. Undefined when gw began stopping meanwhile (said by the caller).
   */
  private async reloadOutcome(name: string, progress?: (p: RestartProgress) => void): Promise<RestartResult | undefined> {
    let relaunched: RestartResult | undefined;
    await this.reloadJobs.get(name)?.follow((p) => {
      if (p.event === "restarted" && p.result.name === name) relaunched = { ...p.result, by: "reload" };
      else progress?.(p);
    });
    if (this.closed && !relaunched) return undefined;
    const result = relaunched ?? { name, ok: false, ms: 0, problem: this.byName.has(name) ? "not restarted: a reload took it over; see gw status" : NOT_RESTARTED_REMOVED };
    progress?.({ event: "restarted", result });
    return result;
  }

  /**
   * Drain (when the LB serves), then restart, telling `progress` both. `target`: the launch (port,
   * command) a reload asked for, or gw restart found running; when a later reload has asked for
   * another (its own relaunch is queued behind) or removed the instance, this one gives way.
   * Undefined when it did, or gw began stopping.
   */
  private async restartOne(s: SupervisedInstance, drainer: Drainer | undefined, progress: ((p: RestartProgress) => void) | undefined, target: string): Promise<RestartResult | undefined> {
    return this.restartEnd(s, await this.restartStart(s, drainer, progress, target), drainer, progress, target);
  }

  /**
   * A restart's first half: drain, then stop the process (it stays drained). Undefined when it
   * gave way (nothing stopped), else what the drain found.
   */
  private async restartStart(s: SupervisedInstance, drainer: Drainer | undefined, progress: ((p: RestartProgress) => void) | undefined, target: string): Promise<{ drain?: DrainReport } | undefined> {
    if (!this.wants(s, target)) return this.gaveWay(s, undefined, progress);
    let stopped = false;
    try {
      const drain = await this.drainFirst(s, "restart", drainer, progress);
      if (!this.wants(s, target)) return this.gaveWay(s, drain, progress);
      await s.stopToRestart();
      stopped = true;
      return drain ? { drain } : {};
    } finally {
      if (!stopped) drainer?.undrain(s.name);
    }
  }

  /** The second half, after `first` stopped the process: start it as the config asks now. */
  private async restartEnd(s: SupervisedInstance, first: { drain?: DrainReport } | undefined, drainer: Drainer | undefined, progress: ((p: RestartProgress) => void) | undefined, target: string): Promise<RestartResult | undefined> {
    if (!first) return undefined;
    try {
      // Stopped, and a later reload changed it meanwhile: that reload's work starts it.
      if (!this.wants(s, target)) return this.gaveWay(s, undefined, progress);
      this.catchUp(s, true);
      const out = await s.startAgain();
      if (this.abandoned(s, out, target)) return this.gaveWay(s, undefined, progress);
      const result: RestartResult = { name: s.name, ok: out.ok, ms: out.ms, problem: s.problem, ...first };
      progress?.({ event: "restarted", result });
      return result;
    } finally {
      drainer?.undrain(s.name);
    }
  }

  /**
   * A reload's relaunch found the config changed again by a later reload (whose own relaunch or
   * stop is queued behind, in the lanes of the ports it needs): it says so — after a drain it
   * started, the line that ends it — and leaves the restart to that one, which its followers hear next.
   */
  private gaveWay(s: SupervisedInstance, drain: DrainReport | undefined, progress?: (p: RestartProgress) => void): undefined {
    if (this.closed) return undefined;
    const then = this.byName.get(s.name) === s ? "restart" : "stop";
    if (drain?.streams) this.deps.log.info(`${s.name}: drained; a later reload changed it meanwhile: its ${then} follows`);
    progress?.({ event: "superseded", name: s.name, then, ...(drain ? { drain } : {}) });
    return undefined;
  }

  /** A start that did not come up because a later reload, which changed the instance meanwhile, abandoned it (abandonStart). */
  private abandoned(s: SupervisedInstance, out: StartOutcome, target: string): boolean {
    return !out.ok && !this.wants(s, target);
  }

  /** An instance a reload removed: drained like a restart (its streams in flight finish), then stopped for good. */
  private async retire(s: SupervisedInstance, drainer?: Drainer, progress?: (p: RestartProgress) => void): Promise<void> {
    try {
      await this.drainFirst(s, "stop", drainer, progress);
      await s.stop();
    } finally {
      drainer?.undrain(s.name);
      this.leaving.delete(s);
      // Its stop told the LB the name is lost; a later reload may have added it again meanwhile.
      const back = this.byName.get(s.name);
      if (back) this.deps.availability?.(s.name, back.availability);
    }
  }

  /** The instance as the config asks for it now (undefined: removed). */
  private wanted(name: string): InstanceConfig | undefined {
    return this.byName.has(name) ? this.config.instances.find((i) => i.name === name) : undefined;
  }

  /** Still this set's instance, gw not stopping, and the config still asks for the launch `target`. */
  private wants(s: SupervisedInstance, target: string): boolean {
    const inst = this.wanted(s.name);
    return !this.closed && this.byName.get(s.name) === s && inst !== undefined && this.launchKey(this.config, inst) === target;
  }

  /**
   * Take up the config's settings for the instance. A new port or command only with `launch`
   * (from the work that relaunches it in its port's lane); until then it keeps the ones it runs with.
   */
  private catchUp(s: SupervisedInstance, launch: boolean): void {
    const inst = this.wanted(s.name);
    if (!inst || (!launch && this.launchKey(this.config, inst) !== this.launchKeyOf(s))) return;
    s.config = this.config;
    s.inst = inst;
  }

  /** With a drainer and a running process: take its targets out and wait for its requests (up to the grace period). */
  private async drainFirst(s: SupervisedInstance, then: DrainThen, drainer?: Drainer, progress?: (p: RestartProgress) => void): Promise<DrainReport | undefined> {
    if (!drainer || !s.child) return undefined;
    const graceMs = this.config.global.shutdownGraceMs;
    const removed = then === "stop";
    const drain = await drainer.drain(s.name, graceMs, (streams) => {
      const after = removed ? "then it stops (removed from the config)" : "new requests go to other targets or wait for it";
      this.deps.log.info(`${s.name}: ${then}: waiting for ${streams} request(s) in flight to finish (up to ${graceMs / 1000} s); ${after}`);
      progress?.({ event: "draining", name: s.name, streams, graceMs, ...(removed ? { removed } : {}) });
    }, then);
    if (drain.left > 0 && !this.closed) this.deps.log.warn(`${s.name}: ${then}: ${drain.left} request(s) still running after ${graceMs / 1000} s (shutdown_grace_ms): the ${then} cuts them`);
    return drain;
  }

  /**
   * Instances that `next` adds, or moves to another port: until (re)launched nothing of theirs
   * answers there — or a process the reload is letting go still does — so their requests wait.
   */
  arriving(next: Config): string[] {
    const port = new Map(this.config.instances.map((i) => [i.name, i.port]));
    return next.instances.filter((i) => i.managed && (!this.byName.has(i.name) || port.get(i.name) !== i.port)).map((i) => i.name);
  }

  /**
   * Take up a reloaded config at once, and queue what the instances must do for it — work that
   * may take a while (a drain lasts up to shutdown_grace_ms), so it runs in the background and the
   * next reload need not wait for it. An instance whose port or command changed is relaunched like
   * `gw restart` does it, and one removed is stopped the same way: drained first (with a
   * drainer), so its streams in flight finish. Work on one instance, or on one port, runs one
   * piece after another (lanes.ts): an instance started on a port this reload lets go (a renamed
   * instance keeps its port) starts once that port's old process has stopped, and two reloads'
   * work on the same instance never overlaps.
   * Returns that work: what `gw reload` waits for before it answers, and hears as `gw restart`'s progress.
   */
  reconcile(next: Config, drainer?: Drainer): InstanceWork {
    if (this.closed) return new InstanceWork();
    const prev = this.config;
    this.config = next;
    const wanted = new Map(next.instances.filter((i) => i.managed).map((i) => [i.name, i]));
    const before = new Map(prev.instances.map((i) => [i.name, i]));
    const lanes = (name: string, ...ports: number[]) => [instanceLane(name), ...ports.map(portLane)];
    const queued = [];
    for (const [name, s] of this.byName) {
      if (wanted.has(name)) continue;
      this.byName.delete(name);
      this.leaving.add(s);
      s.abandonStart();
      this.deps.log.info(`${name}: removed from the config, stopping`);
      queued.push(this.reloadJob(name, lanes(name, s.inst.port, before.get(name)!.port), (tell) => this.retire(s, drainer, tell)));
    }
    const added: InstanceConfig[] = [];
    const moves: (() => void)[] = [];
    for (const [name, inst] of wanted) {
      const s = this.byName.get(name);
      if (!s) {
        added.push(inst);
        continue;
      }
      const was = before.get(name)!;
      const target = this.launchKey(next, inst);
      this.catchUp(s, false);
      if (this.launchKey(prev, was) === target) continue;
      this.deps.log.info(`${name}: port or command changed, restarting`);
      // Its relaunch stops the process anyway: a start under way is not waited for (queued behind it).
      s.abandonStart();
      // Stopped where it runs — its process may still be on a port an earlier reload's relaunch
      // (given way to this one) was to leave — and started on its port once all stops are queued.
      let first: { drain?: DrainReport } | undefined;
      const job = this.reloadJob(name, lanes(name, s.inst.port, was.port), async (tell) => (first = await this.restartStart(s, drainer, tell, target)));
      moves.push(() => this.lanes.queue(lanes(name, inst.port), (tell) => this.restartEnd(s, first, drainer, tell, target), job));
      queued.push(job);
    }
    // Its new port may be one another instance leaves (two swap ports): started after that stop.
    for (const start of moves) start();
    // Last: on a port let go above, they queue behind the work that frees it.
    for (const inst of added) {
      this.deps.log.info(`${inst.name}: added to the config, starting`);
      const s = this.add(inst);
      s.expect();
      const target = this.launchKey(next, inst);
      queued.push(
        // Told like a relaunch, so gw reload says whether the new instance came up; a reload's job,
        // so that one moving or removing it while it starts takes its followers on.
        this.reloadJob(inst.name, lanes(inst.name, inst.port), async (tell) => {
          if (!this.wants(s, target)) return;
          const out = await s.start();
          if (this.abandoned(s, out, target)) return this.gaveWay(s, undefined, tell);
          tell({ event: "restarted", result: { name: s.name, ok: out.ok, ms: out.ms, problem: s.problem, added: true } });
        }),
      );
    }
    return new InstanceWork(queued);
  }

  /** Queue a reload's relaunch or stop of `name`; the one an earlier reload queued for it hands its followers on to it. */
  private reloadJob(name: string, lanes: readonly string[], task: (tell: (p: RestartProgress) => void) => Promise<unknown>): Job {
    const job = this.lanes.queue(lanes, task);
    // Kept until the job's last step has ended (a move's start follows its stop), not its first.
    for (const [n, j] of this.reloadJobs) if (j.ended) this.reloadJobs.delete(n);
    this.reloadJobs.get(name)?.handOn(job);
    this.reloadJobs.set(name, job);
    return job;
  }

  private add(inst: InstanceConfig): SupervisedInstance {
    const s = new SupervisedInstance(this.config, inst, this.deps);
    this.byName.set(inst.name, s);
    return s;
  }

  /** What decides whether a running process still matches its config: port and command line. */
  private launchKey(config: Config, inst: InstanceConfig): string {
    const l = launchFor(config, inst, this.deps.env);
    return JSON.stringify([inst.port, "argv" in l ? l.argv : l.error]);
  }
}

/**
 * Whether two launch keys name the same port and command line, however the gw that wrote each
 * spelled it: an upgrade's predecessor may be older (before 2026-12-04 the key also carried the
 * line logs/NAME.log shows, so any change to that display restarted every adopted instance,
 * cutting its streams).
 */
export function sameLaunch(recorded: string, current: string): boolean {
  const a = launchOf(recorded);
  return a !== undefined && a === launchOf(current);
}

function launchOf(key: string): string | undefined {
  try {
    const [port, l] = JSON.parse(key) as [unknown, { argv?: unknown; error?: unknown } | unknown];
    const was = l as { argv?: unknown; error?: unknown } | null;
    return JSON.stringify([port, was?.argv ?? was?.error ?? l]);
  } catch {
    return undefined;
  }
}
