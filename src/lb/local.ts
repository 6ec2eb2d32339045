// Requests gw answers itself, before auth and intake: connectivity probes (Claude Code sends
// `HEAD /` and `HEAD /api/hello` first) and health checks. They cost no upstream round trip; the
// pipeline counts each by its path (gw_local_answers_total), so probes show up in /metrics.

/** What /healthz reports; the supervisor computes it from its instances' states (no probing). */
export interface Health {
  /** ok: every instance ready · degraded: some can serve · failed: none can (503). */
  readonly status: "ok" | "degraded" | "failed";
  readonly ready: number;
  readonly total: number;
  readonly notReady: readonly string[];
}

const OK: Health = Object.freeze({ status: "ok", ready: 0, total: 0, notReady: [] });

/** A local answer for probes and health checks, or undefined to carry on. */
export function probeAnswer(method: string, path: string, health?: () => Health): Response | undefined {
  // Claude Code's probes ask whether gw is there at all: always yes while it listens.
  if (method === "HEAD" && (path === "/" || path === "/api/hello")) return new Response(null, { status: 200 });
  if ((method === "GET" || method === "HEAD") && path === "/healthz") {
    // A load balancer in front reads the status code: 503 only when no instance can serve.
    const h = health?.() ?? OK;
    const body = method === "HEAD" ? null : healthJson(h);
    return new Response(body, { status: h.status === "failed" ? 503 : 200, headers: { "content-type": "application/json", "cache-control": "no-store" } });
  }
  return undefined;
}

/** `{"status":"ok"}` like CLIProxyAPI's own answer; with a supervisor, the instance counts too. */
function healthJson(h: Health): string {
  if (h.total === 0) return `{"status":"${h.status}"}`;
  return JSON.stringify({ status: h.status, ready: h.ready, total: h.total, not_ready: h.notReady });
}
