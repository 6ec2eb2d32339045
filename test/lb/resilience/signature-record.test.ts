// What a request that took the signature fallback leaves behind: its record names the route each
// attempt was made on and the params of the route that served, and the status page and /metrics
// count each attempt under its own route (the rejected one under the route it was made on).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseExposition } from "../../helpers/observe.ts";
import { claude, type Rig, startRig, withRecord } from "../../helpers/resilience.ts";
import type { RequestRecord } from "../../../src/observe/record.ts";

/** Messages with a signed thinking block no Gemini-backed target can verify. */
const SIGNED = [
  { role: "user" as const, content: "q" },
  { role: "assistant" as const, content: [{ type: "thinking" as const, thinking: "…", signature: "claude#c2lnbmVk" }, { type: "text" as const, text: "a" }] },
  { role: "user" as const, content: "q2" },
];

type Status = { routes: { name: string; targets: { id: string; attempts: number; failed: number }[] }[] };

describe("a request served by the signature fallback route", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({
      mocks: ["a", "b"],
      routing: [
        // The first route whose every target serves Claude: where claude# signatures go on; its
        // target has params, the first route's has none.
        `"claude-home" = [{ instance = "b", provider = "anthropic", model = "claude-home", params = { max_tokens_max = 1000, extra_headers = { "x-home" = "1" } } }]`,
        `"gem" = [{ instance = "a", provider = "anthropic", model = "gemini-3-pro~sig" }]`,
      ].join("\n"),
    });
  });
  afterAll(() => rig.stop());

  for (const stream of [false, true]) {
    test(`its record: each attempt's route, and the serving route's params (${stream ? "streamed" : "not streamed"})`, async () => {
      const rec = await recordOf(rig, "gem", async () => {
        const r = await claude(rig.anthropic(), "gem", { params: { messages: SIGNED }, stream });
        expect(r).toMatchObject({ status: 200, target: "b/claude-home", attempts: 2 });
      });
      expect(rec.routing).toMatchObject({ route: "claude-home", signature_fallback: "claude-home", params: ["max_tokens_max", "extra_headers"] });
      expect(rec.routing.attempts.map((a) => [a.target, a.class, a.route])).toEqual([
        ["a/gemini-3-pro~sig", "signature", "gem"],
        ["b/claude-home", "ok", undefined],
      ]);
    }, 30_000);
  }

  test("an attempt on the record's own route does not name it: a normal record does not grow", async () => {
    const rec = await recordOf(rig, "claude-home", async () => {
      expect(await claude(rig.anthropic(), "claude-home")).toMatchObject({ status: 200, attempts: 1 });
    });
    expect(rec.routing.params).toEqual(["max_tokens_max", "extra_headers"]);
    expect(Object.keys(rec.routing.attempts[0]!)).not.toContain("route");
  }, 30_000);

  test("the status page and /metrics count the rejected attempt under the route it was made on", async () => {
    const before = await countsOf(rig);
    await recordOf(rig, "gem", () => claude(rig.anthropic(), "gem", { params: { messages: SIGNED } }));
    const after = await countsOf(rig);
    expect(after.page.gem!["a/gemini-3-pro~sig"]!.attempts - before.page.gem!["a/gemini-3-pro~sig"]!.attempts).toBe(1);
    expect(after.page.gem!["a/gemini-3-pro~sig"]!.failed - before.page.gem!["a/gemini-3-pro~sig"]!.failed).toBe(1);
    expect(after.page["claude-home"]!["b/claude-home"]!.attempts - before.page["claude-home"]!["b/claude-home"]!.attempts).toBe(1);
    expect(after.page["claude-home"]!["b/claude-home"]!.failed).toBe(0);
    const gemSignature = 'gw_attempts_total{route="gem",target="a/gemini-3-pro~sig",outcome="signature"}';
    expect((after.metrics.get(gemSignature) ?? 0) - (before.metrics.get(gemSignature) ?? 0)).toBe(1);
    // No attempt is said to be made on a route that has not its target.
    expect([...after.metrics.keys()].filter((k) => k.startsWith('gw_attempts_total{route="claude-home",target="a/'))).toEqual([]);
  }, 30_000);
});

/** The record of the one request `send` makes to `model`, once it is in the log. */
async function recordOf(rig: Rig, model: string, send: () => Promise<unknown>): Promise<RequestRecord> {
  return (await withRecord(rig.dir, model, send))[1];
}

/** The status page's attempts per route and target, and /metrics' samples. */
async function countsOf(rig: Rig) {
  // The status feed counts a request once its record completed: the same moment logRecords sees it.
  const status = (await (await fetch(`${rig.gw.url}/_gw/api/status`)).json()) as Status;
  const page = Object.fromEntries(status.routes.map((r) => [r.name, Object.fromEntries(r.targets.map((t) => [t.id, t]))]));
  const metrics = parseExposition(await (await fetch(`${rig.gw.url}/metrics`)).text()).samples;
  return { page, metrics };
}
