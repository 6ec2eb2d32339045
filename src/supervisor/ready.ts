// Is a freshly started instance answering? CLIProxyAPI serves GET /healthz without auth; older
// builds lack it, so a 404 there falls back to GET /v1/models with the instance's key — sent only
// where the instance itself listens (`ownsPort`): on a shared machine another user's process may
// have taken the port before the instance bound it, and answer 404 to be handed the key.

const PROBE_TIMEOUT_MS = 2_000;
/**
 * The first wait after a probe that failed; each next one doubles, up to the caller's pollMs. An
 * instance answers tens of ms after its spawn (`gw mock` ~15 ms, CLIProxyAPI ~50 ms): a first wait
 * of the whole 200 ms poll made `gw up` serve ~200 ms later than it could (bench/startup.ts).
 * A refused connection on loopback costs next to nothing.
 */
const FIRST_WAIT_MS = 10;

export async function probe(baseUrl: string, apiKey: string, ownsPort?: () => Promise<boolean>): Promise<boolean> {
  try {
    const health = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await health.body?.cancel();
    if (health.ok) return true;
    if (health.status !== 404) return false;
    if (apiKey && ownsPort && !(await ownsPort())) return false;
    const models = await fetch(`${baseUrl}/v1/models`, {
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    await models.body?.cancel();
    return models.ok;
  } catch {
    return false;
  }
}

type ReadyOutcome = "ready" | "timeout" | "exited" | "cancelled";

/** Poll until the instance answers, it exits, the deadline passes or `cancel` fires (`pollMs`: the longest wait between probes). */
export async function waitReady(
  baseUrl: string,
  apiKey: string,
  opts: { timeoutMs: number; pollMs: number; exited: Promise<unknown>; cancel?: AbortSignal; ownsPort?: () => Promise<boolean> },
): Promise<ReadyOutcome> {
  let gone = false;
  void opts.exited.then(() => (gone = true));
  const deadline = performance.now() + opts.timeoutMs;
  for (let wait = Math.min(FIRST_WAIT_MS, opts.pollMs); ; wait = Math.min(wait * 2, opts.pollMs)) {
    if (opts.cancel?.aborted) return "cancelled";
    if (gone) return "exited";
    if (await probe(baseUrl, apiKey, opts.ownsPort)) return gone ? "exited" : "ready";
    if (performance.now() >= deadline) return "timeout";
    await Bun.sleep(wait);
  }
}
