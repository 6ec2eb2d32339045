// What the reload running now says about the instances it relaunches, for each `gw reload` that
// waits on it. A reload is often under way before `gw reload` asks (the file watcher reloads an
// edit at once): one that joins late first hears what was said so far, so it shows the drain it
// is waiting for instead of nothing.
import type { RestartProgress } from "./instances.ts";

export class ReloadProgress {
  private said: RestartProgress[] = [];
  private readonly watchers = new Set<(p: RestartProgress) => void>();

  /** The reload applied its config: what it said is of no use to the next one's watchers. */
  end(): void {
    this.said = [];
  }

  tell(p: RestartProgress): void {
    this.said.push(p);
    for (const watch of this.watchers) watch(p);
  }

  /** Hear the running reload's progress, what it said before included; returns the way to stop. */
  watch(w: (p: RestartProgress) => void): () => void {
    for (const p of this.said) w(p);
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }
}
