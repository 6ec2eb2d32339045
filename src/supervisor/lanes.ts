// Instance work that must not overlap — a drain, stop or start — queued per instance and per port:
// a piece of work waits for what was queued before it on the same instance and on the same port
// (a rename frees a port another instance takes), while other instances' work, and the next
// reload's config swap, go on meanwhile. Each piece says what it does (RestartProgress) to
// whoever follows it: `gw reload`, `gw restart`.
import type { RestartProgress } from "./instances.ts";

type Hear = (p: RestartProgress) => void;

/** One queued piece of work: what it said so far, who listens, and when it has ended. */
export class Job {
  readonly said: RestartProgress[] = [];
  readonly hearers = new Set<Hear>();
  done: Promise<void> = Promise.resolve();
  ended = false;
  /** A `gw reload` has followed it: the next reload of the same edit does not tell it again. */
  told = false;
  /** When it ended (performance.now()). */
  endedAt = 0;
  /** Later work on the same instance, which this one's followers hear next if this one gives way to it ("superseded"). */
  private next: Job | undefined;

  readonly tell: Hear = (p) => {
    this.said.push(p);
    for (const hear of this.hearers) hear(p);
  };

  handOn(later: Job): void {
    if (!this.ended) this.next = later;
  }

  /** Hear what this work said and says; once it has ended, what the work it gave way to says, until that ends. */
  async follow(hear: Hear): Promise<void> {
    for (const p of this.said) hear(p);
    this.hearers.add(hear);
    try {
      await this.done;
    } finally {
      this.hearers.delete(hear);
    }
    if (this.next && this.said.some((p) => p.event === "superseded")) await this.next.follow(hear);
  }
}

/** What a reload left running on the instances, for `gw reload` to follow until it ends. */
export class InstanceWork {
  constructor(private readonly jobs: readonly Job[] = []) {}

  /**
   * This work and what of `earlier` (the same edit's work, applied before) has not ended, or ended
   * moments ago: the file watcher's reload of an edit often ends before the `gw reload` the user
   * typed after saving arrives, which would otherwise say only "config reloaded".
   */
  after(earlier: InstanceWork, now = performance.now()): InstanceWork {
    // `now < end + RECENT`, not `now - end < RECENT`: the difference of two fractional moments
    // rounds, and at `end + RECENT` it came out a hair under RECENT (work 10 s old was recent).
    return new InstanceWork([...new Set([...earlier.jobs.filter((j) => !j.told && (!j.ended || now < j.endedAt + RECENT_WORK_MS)), ...this.jobs])]);
  }

  /** Hear what the work said so far and says from now on; resolves once all of it has ended. */
  async follow(hear: Hear): Promise<void> {
    for (const j of this.jobs) j.told = true;
    await Promise.all(this.jobs.map((j) => j.follow(hear)));
  }

  /** Some of it has not ended yet. */
  get running(): boolean {
    return this.jobs.some((j) => !j.ended);
  }

  /** Resolves once all of the work has ended. */
  async ended(): Promise<void> {
    // a job's later steps replace its `done`
    for (const j of this.jobs) while (!j.ended) await j.done;
  }
}

/** How long ended work is still told to a reload of the same edit. */
export const RECENT_WORK_MS = 10_000;

export class Lanes {
  private readonly tails = new Map<string, Promise<void>>();

  /** `failed`: a piece of work threw (it ran in the background: nobody else would hear of it). */
  constructor(private readonly failed: (err: Error) => void) {}

  /**
   * Run `task` once the work queued before on every one of `lanes` has ended. With `job`: as that
   * job's next step, after its steps so far (which hold only their own lanes) — a move's start on
   * its new port is queued apart from its stop on the old one, so two instances swapping ports
   * stop both, then start both.
   */
  queue(lanes: readonly string[], task: (tell: Hear) => Promise<unknown>, job = new Job()): Job {
    const before = [job.done, ...lanes.flatMap((l) => this.tails.get(l) ?? [])];
    const done: Promise<void> = Promise.all(before)
      .then(() => task(job.tell))
      .then(
        () => {},
        (err: Error) => this.failed(err),
      )
      .finally(() => {
        if (job.done === done) {
          job.ended = true;
          job.endedAt = performance.now();
        }
        for (const l of lanes) if (this.tails.get(l) === done) this.tails.delete(l);
      });
    job.done = done;
    for (const l of lanes) this.tails.set(l, done);
    return job;
  }
}

export const instanceLane = (name: string) => `instance ${name}`;
export const portLane = (port: number) => `port ${port}`;
