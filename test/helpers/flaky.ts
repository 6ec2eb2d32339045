// An upstream whose health a test switches, for gw's probes (test/lb/resilience/probe*.test.ts).
import { testUpstream, type TestUpstream } from "./lb.ts";

/** An Anthropic-shaped upstream that can be made sick: then every request (probes too) gets 503. */
export function flaky(name: string) {
  const u = {
    healthy: false,
    posts: 0,
    probes: [] as { at: number; path: string; auth: string | null }[],
    inFlightProbes: 0,
    maxInFlightProbes: 0,
    probeDelayMs: 0,
    /** How long a request (not a probe) waits for its answer. */
    postDelayMs: 0,
    /** Requests get 503 even while probes are answered (a model that fails on a live instance). */
    postsFail: false,
    server: undefined as unknown as TestUpstream,
  };
  u.server = testUpstream(async (req, seen) => {
    if (req.method === "GET") {
      u.probes.push({ at: Date.now(), path: seen.path, auth: req.headers.get("authorization") });
      u.inFlightProbes++;
      u.maxInFlightProbes = Math.max(u.maxInFlightProbes, u.inFlightProbes);
      if (u.probeDelayMs) await Bun.sleep(u.probeDelayMs);
      u.inFlightProbes--;
      return u.healthy ? Response.json({ object: "list", data: [] }) : Response.json({ error: { message: "down" } }, { status: 503 });
    }
    u.posts++;
    if (u.postDelayMs) await Bun.sleep(u.postDelayMs);
    if (!u.healthy || u.postsFail) return Response.json({ type: "error", error: { type: "api_error", message: "sick" } }, { status: 503 });
    return Response.json({ id: "m", type: "message", role: "assistant", model: "x", content: [{ type: "text", text: `from ${name}` }], stop_reason: "end_turn", usage: { input_tokens: 1, output_tokens: 1 } });
  });
  return u;
}
