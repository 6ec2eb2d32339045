// The Gateway handle the supervisor holds: compressed bodies untouched, counters, graceful stop.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { configFrom, externalInstances, startTestGateway, testUpstream, waitFor } from "../helpers/lb.ts";

const toml = (url: string) => `
[global]
main_port = 8145
${externalInstances({ a: url })}
[routing]
"m" = [{ instance = "a", provider = "anthropic", model = "up" }]
`;

test("compressed upstream bodies pass through as compressed bytes with their encoding", async () => {
  const payload = JSON.stringify({ hello: "x".repeat(2000) });
  const up = testUpstream(() => new Response(Bun.gzipSync(payload), { headers: { "content-type": "application/json", "content-encoding": "gzip" } }));
  const gw = startTestGateway(configFrom(toml(up.url)));
  try {
    const raw = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: '{"model":"m"}', decompress: false } as RequestInit);
    expect(raw.headers.get("content-encoding")).toBe("gzip");
    const bytes = new Uint8Array(await raw.arrayBuffer());
    expect(new TextDecoder().decode(Bun.gunzipSync(bytes))).toBe(payload);
    const decoded = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: '{"model":"m"}' });
    expect(await decoded.text()).toBe(payload);
  } finally {
    await gw.stop(0);
    await up.stop();
  }
});

test("stats count requests per instance; stop() lets a stream finish within the grace period", async () => {
  let release = () => {};
  const up = testUpstream(() => {
    const body = new ReadableStream<Uint8Array>({
      async start(c) {
        c.enqueue(new TextEncoder().encode("data: first\n\n"));
        await new Promise<void>((r) => (release = r));
        c.enqueue(new TextEncoder().encode("data: last\n\ndata: [DONE]\n\n")); // a whole answer: one cut short is a break
        c.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  const gw = startTestGateway(configFrom(toml(up.url)));
  try {
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: '{"model":"m","stream":true}' });
    const text = res.text();
    await waitFor(() => gw.stats().openStreams === 1, 5000, "the stream to open");
    expect(gw.stats()).toMatchObject({ inFlight: 1, requests: 1, byInstance: { a: { requests: 1, errors: 0 } } });
    const stopped = gw.stop(30_000);
    await Bun.sleep(50);
    release();
    await stopped;
    expect(await text).toContain("data: last");
    expect(gw.stats()).toMatchObject({ inFlight: 0, openStreams: 0, errors: 0 });
    expect(await fetch(`${gw.url}/healthz`).then(() => "served", () => "refused")).toBe("refused");
  } finally {
    await up.stop();
  }
});

test("stop() ends what is still running when the grace period ends with gw's error event, upstream included, and logs it as gw's cut", async () => {
  let cancelled = false;
  const up = testUpstream(() => {
    const body = new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode("data: x\n\n")), cancel: () => void (cancelled = true) });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  const gw = startTestGateway(configFrom(toml(up.url)));
  const day = join(gw.config().dir, "logs", "requests", `${new Date().toISOString().slice(0, 10)}.jsonl`);
  try {
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: '{"model":"m","stream":true}' });
    const text = res.text().catch((e: Error) => `cut without an event: ${e.message}`);
    await waitFor(() => gw.stats().openStreams === 1, 5000, "the stream to open");
    await gw.stop(100);
    // The client reads why its answer ended, in its dialect (not a bare reset it might take for its own network's fault).
    const got = await text;
    expect(got).toContain("data: x");
    expect(got).toContain("event: error");
    expect(got).toContain("gw stopped");
    await waitFor(() => cancelled, 5000, "the upstream stream to be cancelled");
    expect(gw.stats().openStreams).toBe(0);
    // The log says gw cut it: the client did not leave.
    const rec = JSON.parse(readFileSync(day, "utf8").trim().split("\n").at(-1)!) as { response: Record<string, unknown> };
    expect(rec.response).toMatchObject({ status: 200, broken: true });
    expect(rec.response.client_left).toBeUndefined();
    expect(String(rec.response.error)).toContain("gw stopped");
  } finally {
    await up.stop();
  }
});

test("gw status counts the errors the status page counts: a 429 the client got is one, a client's own 400 is no instance's", async () => {
  const up = testUpstream((req) => {
    const rateLimited = req.url.includes("messages") && req.headers.get("x-case") === "429";
    return rateLimited
      ? Response.json({ type: "error", error: { type: "rate_limit_error", message: "slow down" } }, { status: 429 })
      : Response.json({ type: "error", error: { type: "invalid_request_error", message: "bad field" } }, { status: 400 });
  });
  const gw = startTestGateway(configFrom(toml(up.url)));
  try {
    for (const c of ["429", "400"]) {
      const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "x-case": c }, body: '{"model":"m"}' });
      expect(res.status).toBe(Number(c));
      await res.arrayBuffer();
    }
    const page = (await (await fetch(`${gw.url}/_gw/api/status`)).json()) as { totals: { requests: number; failed: number }; instances: { name: string; attempts: number; failed: number }[] };
    const stats = gw.stats();
    expect(page.totals).toMatchObject({ requests: 2, failed: 2 });
    expect({ requests: stats.requests, errors: stats.errors }).toEqual({ requests: 2, errors: 2 });
    expect(page.instances.map((i) => [i.name, i.attempts, i.failed])).toEqual([["a", 2, 1]]);
    expect(stats.byInstance.a).toEqual({ requests: 2, errors: 1 });
  } finally {
    await gw.stop(0);
    await up.stop();
  }
});
