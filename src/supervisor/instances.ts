// The set of supervised instances: start them all, restart one or all (rolling), stop them all,
// and reconcile with a reloaded config (start added, stop removed, restart those whose launch
// changed; a mere YAML change needs nothing — CLIProxyAPI re-reads its own file).
import type { Config, InstanceConfig } from "../config/types.ts";
import { type InstanceDeps, type StartOutcome, SupervisedInstance } from "./instance.ts";
import { adoptChild } from "./adopt.ts";
import { launchFor } from "./launch.ts";
import type { ProcRecord } from "./orphans.ts";
import type { DrainReport } from "../lb/drain.ts";

export interface RestartResult {
  readonly name: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly problem: string;
  /** The drain before the restart (absent while the LB does not serve yet). */
  readonly drain?: DrainReport;
}

/** What `gw restart` hears while it runs: an instance began waiting for its requests, or has been restarted. */
export type RestartProgress =
  /** `removed`: a reload took the instance out of the config; it stops once drained, and nothing waits for it. */
  | { readonly event: "draining"; readonly name: string; readonly streams: number; readonly graceMs: number; readonly removed?: boolean }
  | { readonly event: "restarted"; readonly result: RestartResult };

/**
 * A deliberate restart drains the instance first (the LB's side, lb/drain.ts): new requests go
 * to other targets while those in flight finish, then the process is restarted and takes
 * requests again. Crash restarts (instance.ts) have nothing left to drain.
 */
export interface Drainer {
  drain(name: string, graceMs: number, onWait: (streams: number) => void): Promise<DrainReport>;
  undrain(name: string): void;
}

export class InstanceSet {
  private readonly byName = new Map<string, SupervisedInstance>();
  /** After stopAll nothing starts again (a reload or restart racing the shutdown). */
  private closed = false;

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
        if (rec.launch !== undefined && rec.launch !== this.launchKeyOf(s.inst)) changed.push(s.name);
      }),
    );
    return { adopted: adopted.sort(), changed: changed.sort() };
  }

  /** What a running process of this instance must have been started with to still match the config. */
  launchKeyOf(inst: InstanceConfig): string {
    return this.launchKey(this.config, inst);
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

  async stopAll(): Promise<void> {
    this.closed = true;
    await Promise.all(this.list().map((s) => s.stop()));
  }

  /**
   * One instance, or all of them one after another, so the others carry the traffic meanwhile.
   * With a drainer each is drained first: the requests running on it finish (up to its grace
   * period) instead of being cut by the restart.
   */
  async restart(name?: string, drainer?: Drainer, progress?: (p: RestartProgress) => void): Promise<RestartResult[]> {
    if (this.closed) return [];
    const targets = name ? [this.byName.get(name)].filter((s) => s !== undefined) : this.list();
    const results: RestartResult[] = [];
    for (const s of targets) {
      if (this.closed) break;
      const result = await this.restartOne(s, drainer, progress);
      if (!result) break;
      results.push(result);
    }
    return results;
  }

  /** Drain (when the LB serves), then restart, telling `progress` both; undefined when gw began stopping meanwhile. */
  private async restartOne(s: SupervisedInstance, drainer?: Drainer, progress?: (p: RestartProgress) => void): Promise<RestartResult | undefined> {
    try {
      const drain = await this.drainFirst(s, "restart", drainer, progress);
      if (this.closed) return undefined;
      const out = await s.restart();
      const result: RestartResult = { name: s.name, ok: out.ok, ms: out.ms, problem: s.problem, ...(drain ? { drain } : {}) };
      progress?.({ event: "restarted", result });
      return result;
    } finally {
      drainer?.undrain(s.name);
    }
  }

  /** An instance a reload removed: drained like a restart (its streams in flight finish), then stopped for good. */
  private async retire(s: SupervisedInstance, drainer?: Drainer, progress?: (p: RestartProgress) => void): Promise<void> {
    try {
      await this.drainFirst(s, "stop", drainer, progress);
      await s.stop();
    } finally {
      drainer?.undrain(s.name);
    }
  }

  /** With a drainer and a running process: take its targets out and wait for its requests (up to the grace period). */
  private async drainFirst(s: SupervisedInstance, then: "restart" | "stop", drainer?: Drainer, progress?: (p: RestartProgress) => void): Promise<DrainReport | undefined> {
    if (!drainer || !s.child) return undefined;
    const graceMs = this.config.global.shutdownGraceMs;
    const removed = then === "stop";
    const drain = await drainer.drain(s.name, graceMs, (streams) => {
      const after = removed ? "then it stops (removed from the config)" : "new requests go to other targets or wait for it";
      this.deps.log.info(`${s.name}: ${then}: waiting for ${streams} request(s) in flight to finish (up to ${graceMs / 1000} s); ${after}`);
      progress?.({ event: "draining", name: s.name, streams, graceMs, ...(removed ? { removed } : {}) });
    });
    if (drain.left > 0) this.deps.log.warn(`${s.name}: ${then}: ${drain.left} request(s) still running after ${graceMs / 1000} s (shutdown_grace_ms): the ${then} cuts them`);
    return drain;
  }

  /**
   * Instances that `next` adds, or moves to another port: until (re)launched nothing of theirs
   * answers there — or a process the reload is letting go still does — so their requests wait.
   */
  arriving(next: Config): string[] {
    return next.instances.filter((i) => i.managed && this.byName.get(i.name)?.inst.port !== i.port).map((i) => i.name);
  }

  /**
   * Take up a reloaded config. An instance whose port or command changed is relaunched like
   * `gw restart` does it, and one removed is stopped the same way: drained first (with a
   * drainer), so its streams in flight finish; `progress` hears it as `gw restart`'s does. An
   * instance started on a port this reload lets go (a renamed instance keeps its port) starts
   * once that port's old process has stopped.
   */
  async reconcile(next: Config, drainer?: Drainer, progress?: (p: RestartProgress) => void): Promise<void> {
    if (this.closed) return;
    const prev = this.config;
    this.config = next;
    const wanted = new Map(next.instances.filter((i) => i.managed).map((i) => [i.name, i]));
    const work: Promise<unknown>[] = [];
    /** Ports whose process this reload stops or moves, and when that is done. */
    const freed = new Map<number, Promise<unknown>>();
    for (const [name, s] of this.byName) {
      if (wanted.has(name)) continue;
      this.byName.delete(name);
      this.deps.log.info(`${name}: removed from the config, stopping`);
      const stopped = this.retire(s, drainer, progress);
      freed.set(s.inst.port, stopped);
      work.push(stopped);
    }
    const added: InstanceConfig[] = [];
    for (const [name, inst] of wanted) {
      const s = this.byName.get(name);
      if (!s) {
        added.push(inst);
        continue;
      }
      const relaunch = this.launchKey(prev, s.inst) !== this.launchKey(next, inst);
      const oldPort = s.inst.port;
      s.config = next;
      s.inst = inst;
      if (relaunch) {
        this.deps.log.info(`${name}: port or command changed, restarting`);
        const restarted = this.restartOne(s, drainer, progress);
        if (oldPort !== inst.port) freed.set(oldPort, restarted);
        work.push(restarted);
      }
    }
    for (const inst of added) {
      this.deps.log.info(`${inst.name}: added to the config, starting`);
      const s = this.add(inst);
      s.expect();
      work.push((freed.get(inst.port) ?? Promise.resolve()).then(() => (this.closed ? undefined : s.start())));
    }
    await Promise.all(work);
  }

  private add(inst: InstanceConfig): SupervisedInstance {
    const s = new SupervisedInstance(this.config, inst, this.deps);
    this.byName.set(inst.name, s);
    return s;
  }

  /** What decides whether a running process still matches its config: port and command line. */
  private launchKey(config: Config, inst: InstanceConfig): string {
    return JSON.stringify([inst.port, launchFor(config, inst, this.deps.env)]);
  }
}
