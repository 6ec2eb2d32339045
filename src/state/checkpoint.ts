// Checkpoints of the state file off the event loop. SQLite's automatic checkpoint runs inside the
// commit that takes the WAL past ~1000 pages — on gw's event loop, with an fsync of the WAL
// before and of the database after: ~12 ms on this VM's disk (~5 ms on /dev/shm, up to ~55 ms
// on a busy machine) during which every request in flight waits (bench/state-wal.ts). gw's
// connection turns it off (StateFile.checkpointsElsewhere) and this asks a worker thread with its
// own connection (checkpoint-worker.ts) to checkpoint instead, at most once per `everyMs` while
// gw writes. The worker starts with the first request for one.
//
// A worker that cannot start, cannot open the file or fails a checkpoint must not cost more than
// the stall it saves: `onFail` is called once (local.ts turns inline checkpoints back on and
// warns) and this asks for nothing more. Except where the disk is full: gw's own writes meet that
// too, and say so; the worker is fine and checkpoints again at the next write — unless the disk
// keeps refusing it, MISSES_MAX times in a row, while gw's commits get through.

import { isOutOfRoom } from "../fs/why.ts";

/** What gw's thread tells the worker. */
export type ToCheckpointer = { op: "open"; file: string } | { op: "checkpoint" } | { op: "stop" };
/** What the worker answers: SQLite's wal_checkpoint row (frames in the WAL, frames copied back) and its time. */
export type FromCheckpointer =
  | { op: "opened" }
  | ({ op: "checkpointed" } & CheckpointResult)
  | { op: "failed"; message: string; code?: string }
  | { op: "stopped" };

export interface CheckpointResult {
  /** 1 when a reader kept it from copying everything. */
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
  readonly ms: number;
}

interface CheckpointerOptions {
  readonly file: string;
  readonly everyMs: number;
  /** Called once when checkpoints cannot be had off the event loop, with why. */
  readonly onFail: (why: string) => void;
  readonly onCheckpoint?: (r: CheckpointResult) => void;
  /** A checkpoint a full disk refused, with why (the next write asks again). */
  readonly onMissed?: (why: string) => void;
  /** The worker's script (tests give one that fails). */
  readonly worker?: string | URL;
}

/**
 * The worker's script: beside this file, or in a compiled gw, where src/release/build.ts adds it as
 * an entry point, kept under its path below src/ (the entry points' common folder). There every
 * module's import.meta.url is the binary's own, so a URL made from it would miss the file.
 */
const WORKER = Bun.isStandaloneExecutable ? "./state/checkpoint-worker.ts" : new URL("./checkpoint-worker.ts", import.meta.url);

/** Checkpoints in a row the disk may refuse before the worker counts as failed after all. */
const MISSES_MAX = 5;

/** How long a stop waits for a checkpoint under way to finish before the worker is ended anyway. */
const STOP_WAIT_MS = 2000;

export class Checkpointer {
  #worker: Bun.Worker | undefined;
  #timer: Timer | undefined;
  /** Failed or stopped: nothing more is asked. */
  #done = false;
  #busy = false;
  #misses = 0;
  #stopped: (() => void) | undefined;

  constructor(private readonly o: CheckpointerOptions) {}

  /** gw has written: a checkpoint follows within `everyMs` (one for any number of writes). */
  wrote(): void {
    if (this.#done) return;
    this.#timer ??= setTimeout(() => this.#ask(), this.o.everyMs);
  }

  /** Let the worker finish what it does, close its connection and end. */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#done = true;
    const w = this.#worker;
    if (!w) return;
    w.ref(); // the answer must come before the process may end
    let timer: Timer | undefined;
    const stopped = new Promise<void>((resolve) => {
      this.#stopped = resolve;
      timer = setTimeout(resolve, STOP_WAIT_MS);
    });
    w.postMessage({ op: "stop" } satisfies ToCheckpointer);
    await stopped;
    clearTimeout(timer); // gw's exit does not wait for it
    this.#end();
  }

  #ask(): void {
    this.#timer = undefined;
    if (this.#done) return;
    if (this.#busy) return this.wrote(); // one at a time; the next after this one's interval
    try {
      this.#worker ??= this.#start();
    } catch (err) {
      return this.#fail(`the checkpoint worker cannot start (${(err as Error).message})`);
    }
    this.#busy = true;
    this.#worker.postMessage({ op: "checkpoint" } satisfies ToCheckpointer);
  }

  #start(): Bun.Worker {
    const w = new Worker(this.o.worker ?? WORKER) as Bun.Worker;
    w.unref(); // a checkpoint never keeps gw from exiting
    w.addEventListener("message", (e) => this.#heard((e as MessageEvent<FromCheckpointer>).data));
    w.addEventListener("error", (e) => this.#fail(`the checkpoint worker failed (${(e as ErrorEvent).message})`));
    w.addEventListener("close", () => this.#fail("the checkpoint worker exited"));
    w.postMessage({ op: "open", file: this.o.file } satisfies ToCheckpointer);
    return w;
  }

  #heard(m: FromCheckpointer): void {
    if (m.op === "checkpointed") {
      [this.#busy, this.#misses] = [false, 0];
      this.o.onCheckpoint?.(m);
    } else if (m.op === "failed" && isOutOfRoom(m) && ++this.#misses < MISSES_MAX) {
      this.#busy = false;
      this.o.onMissed?.(m.message);
    } else if (m.op === "failed") this.#fail(`the checkpoint worker failed (${m.message})`);
    else if (m.op === "stopped") this.#stopped?.();
  }

  #fail(why: string): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    this.#end();
    this.o.onFail(why);
  }

  #end(): void {
    const w = this.#worker;
    this.#worker = undefined;
    w?.terminate();
  }
}
