// A file a full disk refused while gw serves (its pid file, its registry entry) is written again
// once there is room: tried this often, quietly, until it is — never while gw stops or hands over
// to a successor, whose files they then are, or no one's.

/** How often (as the state file is tried, state/local.ts). */
export const REWRITE_MS = 5_000;

/**
 * Try `write` every REWRITE_MS until it returns true, then call `written` (gw says so, once);
 * ticks while `idle()` are skipped, and so is a success that comes when idle. An error other than
 * the disk's refusal (which `write` returns as false) is tried again at the next tick. Returns the
 * stop function.
 */
export function rewriteUntilDone(write: () => Promise<boolean>, idle: () => boolean, written: () => void, ms = REWRITE_MS): () => void {
  const timer = setInterval(() => {
    if (idle()) return;
    void write()
      .then((ok) => {
        if (!ok || idle()) return;
        clearInterval(timer);
        written();
      })
      .catch(() => {});
  }, ms);
  return () => clearInterval(timer);
}
