// Is the gateway up? Any HTTP answer counts (even 401/404): the question is only whether
// something listens, and it must be answered before the user notices a pause.

/** Upper bound for the whole probe; a local LB answers in well under a millisecond. */
export const PROBE_TIMEOUT_MS = 300;

export async function gatewayAnswers(baseUrl: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/`, { method: "HEAD", redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}
