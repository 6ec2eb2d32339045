// Bun's fetch runs at most 256 requests at once per process (BUN_CONFIG_MAX_HTTP_REQUESTS, read
// once at startup) and queues the rest silently. For an LLM proxy that is fatal: stream number
// 257 would wait minutes for another session's stream to end. The process that serves the LB
// must therefore start with a higher limit; this module says how, and re-executes if needed.

const FETCH_LIMIT_VAR = "BUN_CONFIG_MAX_HTTP_REQUESTS";
/** Comfortably above any number of open streams gw expects; each costs a socket, not a thread. */
const FETCH_LIMIT = 16_384;

/** Environment for a process that will serve the LB (for the supervisor's spawn). */
export function lbProcessEnv(env: Record<string, string | undefined> = process.env): Record<string, string | undefined> {
  return env[FETCH_LIMIT_VAR] ? env : { ...env, [FETCH_LIMIT_VAR]: String(FETCH_LIMIT) };
}

/**
 * Replace this process by itself with the limit raised (same pid, same terminal, same
 * arguments), unless it already runs with one. Returns only when no re-exec was needed.
 */
export function ensureFetchLimit(): void {
  if (process.env[FETCH_LIMIT_VAR] || !process.execve) return;
  const args = Bun.isStandaloneExecutable ? process.argv.slice(2) : process.argv.slice(1);
  process.execve(process.execPath, [process.execPath, ...args], lbProcessEnv() as NodeJS.ProcessEnv);
}
