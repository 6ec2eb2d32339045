// Changes waiting for a backend: the last change per entry wins, so a burst of writes to one key
// costs one write, and what waits is bounded by the number of entries, not of requests — and by
// the number the store itself keeps: over days of a Redis outage or a full disk, every new
// session is a new entry.

import type { StateChange } from "./types.ts";

export class PendingChanges {
  readonly #byEntry = new Map<string, StateChange>();

  /**
   * `max`: as many entries as the store keeps (memory.ts entriesMax). Past it the least recently
   * changed one is dropped: the store has evicted it too, or will before it matters.
   */
  constructor(readonly max: number) {}

  add(c: StateChange): void {
    const key = entryOf(c);
    // A session's write replaces one that never reached the backend: it finds there what that one would have.
    const before = this.#byEntry.get(key);
    if (c.op === "setSticky" && before) c = { ...c, was: before.op === "setSticky" ? before.was : undefined };
    // Re-inserting keeps the order of the last writes, so a replay applies them in that order.
    this.#byEntry.delete(key);
    this.#byEntry.set(key, c);
    if (this.#byEntry.size > this.max) this.#byEntry.delete(this.#byEntry.keys().next().value!);
  }

  /** Everything waiting, oldest first; the queue is empty afterwards. */
  take(): StateChange[] {
    const out = [...this.#byEntry.values()];
    this.#byEntry.clear();
    return out;
  }

  /** Put back what could not be written, unless a newer change to the same entry came meanwhile. */
  restore(changes: readonly StateChange[]): void {
    const newer = new Map(this.#byEntry);
    this.#byEntry.clear();
    for (const c of changes) this.#byEntry.set(entryOf(c), c);
    for (const c of newer.values()) this.add(c);
  }

  /** Drop what waits for `c`'s entry (a newer change to it is on its way by another road). */
  forget(c: StateChange): void {
    this.#byEntry.delete(entryOf(c));
  }

  /** Whether a change to `c`'s entry waits (it is newer than anything the backend holds for it). */
  has(c: StateChange): boolean {
    return this.#byEntry.has(entryOf(c));
  }

  get size(): number {
    return this.#byEntry.size;
  }
}

/** Which entry a change is about: one cooldown, one sticky key or one streak. */
export function entryOf(c: StateChange): string {
  switch (c.op) {
    case "setCooldown":
    case "clearCooldown":
      return `c\0${c.route}\0${c.target}`;
    case "setSticky":
    case "clearSticky":
      return `s\0${c.key}`;
    case "setStreak":
    case "resetStreak":
      return `f\0${c.key}`;
  }
}
