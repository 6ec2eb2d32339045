// The process that serves the LB needs two of Bun's settings changed, and both are read once at
// startup from the environment; this module says which, and re-executes with them if needed.
//
// - Bun's fetch runs at most 256 requests at once per process (BUN_CONFIG_MAX_HTTP_REQUESTS) and
//   queues the rest silently. For an LLM proxy that is fatal: stream number 257 would wait
//   minutes for another session's stream to end.
// - Bun's allocator (its mimalloc) discards the free holes inside pages still in use whenever a
//   thread goes idle (at most every 100 ms), so the next allocation there takes a page fault.
//   A gateway under load goes idle between bursts all the time and allocates into those holes
//   at once: page faults, the allocator's scavenger thread and its TLB flushes cost gw up to a
//   third of its CPU per request (~13 µs a fault on a VM; bench/README.md, 2026-12-01). Whole
//   free pages are still returned to the system as before; only the holes stay resident.

const LB_ENV = {
  // Comfortably above any number of open streams gw expects; each costs a socket, not a thread.
  BUN_CONFIG_MAX_HTTP_REQUESTS: "16384",
  MIMALLOC_PURGE_HOLES: "0",
} as const;

/** Environment for a process that will serve the LB (for the supervisor's spawn); a setting the user made stays. */
export function lbProcessEnv(env: Record<string, string | undefined> = process.env): Record<string, string | undefined> {
  const missing = Object.entries(LB_ENV).filter(([k]) => !env[k]);
  return missing.length === 0 ? env : { ...env, ...Object.fromEntries(missing) };
}

/**
 * Replace this process by itself with the LB's settings (same pid, same terminal, same
 * arguments), unless it already runs with them. Returns only when no re-exec was needed.
 */
export function ensureLbSettings(): void {
  const env = lbProcessEnv();
  if (env === process.env || !process.execve) return;
  const args = Bun.isStandaloneExecutable ? process.argv.slice(2) : process.argv.slice(1);
  process.execve(process.execPath, [process.execPath, ...args], env as NodeJS.ProcessEnv);
}
