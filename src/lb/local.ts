// Requests gw answers itself, before auth and intake: connectivity probes (Claude Code sends
// `HEAD /` and `HEAD /api/hello` first) and health checks. They cost no upstream round trip; the
// pipeline counts each by its path (gw_local_answers_total), so probes show up in /metrics.

const OK_JSON = '{"status":"ok"}';

/** A local answer for probes and health checks, or undefined to carry on. */
export function probeAnswer(method: string, path: string): Response | undefined {
  if (method === "HEAD" && (path === "/" || path === "/api/hello")) return new Response(null, { status: 200 });
  if ((method === "GET" || method === "HEAD") && path === "/healthz") {
    return new Response(method === "HEAD" ? null : OK_JSON, { headers: { "content-type": "application/json" } });
  }
  return undefined;
}
