// A throw inside the request path (gw's own bug: here a Config built around the loader, whose
// extra_headers no Headers takes) is answered in the client's dialect and ends the request as any
// answer does: its record is written and it leaves the in-flight count.
import { afterAll, expect, test } from "bun:test";
import { dirname } from "node:path";
import type { Config, Route } from "../../src/config/types.ts";
import { configFrom, externalInstances, startTestGateway, testUpstream, waitFor } from "../helpers/lb.ts";
import { readRequestLog } from "../helpers/resilience.ts";

const upstream = testUpstream();
afterAll(() => upstream.stop());

/** `config` with every target of route `m` sending `headers` (what the loader now refuses). */
function withHeaders(config: Config, headers: Record<string, string>): Config {
  const route = config.routes.get("m")!;
  const bad: Route = { ...route, targets: route.targets.map((t) => ({ ...t, params: { ...t.params, extraHeaders: headers } })) };
  return { ...config, routes: new Map([...config.routes, ["m", bad]]) };
}

test("a throw while rewriting answers 500 in the client's dialect, writes the record and ends the in-flight count", async () => {
  const config = configFrom(`[global]\nmain_port = 8145\n${externalInstances({ a: upstream.url })}[routing]\n"m" = [{ instance = "a", provider = "anthropic", model = "x" }]\n`);
  const gw = startTestGateway(withHeaders(config, { "Bad Name": "v" }));
  try {
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }) });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { type?: string; error?: { type?: string; message?: string } };
    // Anthropic's shape, as /v1/messages clients read errors (not OpenAI's { error: { code } }).
    expect(body.type).toBe("error");
    expect(body.error?.message).toStartWith("gw internal error: ");
    expect(res.headers.get("x-gw-request-id")).toBeTruthy();
    expect(gw.stats().inFlight).toBe(0);
    await gw.flushLog();
    const dir = dirname(config.file);
    await waitFor(() => readRequestLog(dir).length === 1, 10_000, "the request's record");
    const [record] = readRequestLog(dir);
    expect(record!.response.status).toBe(500);
    expect(record!.response.error).toStartWith("gw internal error: ");
    expect(record!.routing.route).toBe("m");
    expect(upstream.seen).toHaveLength(0);
  } finally {
    await gw.stop(0);
  }
});
