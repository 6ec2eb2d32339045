// The wall clock stepped in this process, as NTP steps it after a laptop's sleep or a VM's pause:
// Date.now moves; performance.now (the monotonic clock) does not, as with the real thing.

/** Move Date.now by `ms` until the returned function restores it. */
export function stepClock(ms: number): () => void {
  const real = Date.now;
  Date.now = () => real() + ms;
  return () => void (Date.now = real);
}

export const HOUR = 3600_000;
