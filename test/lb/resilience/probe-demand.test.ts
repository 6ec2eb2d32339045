// A failed probe keeps an instance out only as long as it must. Every target on an instance whose
// last probe failed is out, in every route (dead-ends.ts), while the probes back off up to 60 s: so
// requests that pass it over bring its next probe forward (probe.ts want), and a reload that gives it
// a new address, or removes it, drops the failure — that was the old address's.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { flaky } from "../../helpers/flaky.ts";
import { configFrom, externalInstances, startTestGateway, testUpstream, waitFor } from "../../helpers/lb.ts";
import { pollRequests } from "../../helpers/resilience.ts";
import { tempDir } from "../../helpers/tmp.ts";
import type { RunningGateway } from "../../../src/lb/server.ts";

// A backoff far beyond every wait below: only demand (or a reload) can bring a probe in time.
const TIMING = { timeoutMs: 2000, backoffMs: 30_000, maxBackoffMs: 60_000, wantedMs: 200 };
// s first in both; "r" is where s fails and cools, "q" never sends s anything before it is down.
const ROUTES = ["r", "q"].map((r) => `"${r}" = [{ instance = "s", provider = "anthropic", model = "claude-s", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b" }]`).join("\n");
const ONLY_B = ["r", "q"].map((r) => `"${r}" = [{ instance = "b", provider = "anthropic", model = "claude-b" }]`).join("\n");

/** A gateway over s (down) and b, with s's last probe failed: its targets out in both routes. */
async function withDownInstance(run: (h: { gw: RunningGateway; s: ReturnType<typeof flaky>; lines: string[]; send: (route: string) => Promise<string | null>; reload: (instances: Record<string, string>, routing: string) => void }) => Promise<void>) {
  const s = flaky("s");
  const b = testUpstream();
  const file = join(tempDir("gw-probe-demand-"), "providers.toml");
  const config = (instances: Record<string, string>, routing: string) =>
    configFrom(`[global]\nlb_transient_heavy_cooldown_ms = 300\n${externalInstances({ ...instances, b: b.url })}\n[routing]\n${routing}\n`, file);
  const lines: string[] = [];
  const log = { info: (m: string) => lines.push(`INFO ${m}`), warn: (m: string) => lines.push(`WARN ${m}`) };
  const gw = startTestGateway(config({ s: s.server.url }, ROUTES), { log, probeTiming: TIMING });
  const send = async (route: string) => {
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: route, max_tokens: 5, messages: [] }) });
    await res.body?.cancel();
    return res.headers.get("x-gw-target");
  };
  try {
    expect(await send("r")).toBe("b/claude-b"); // s answers 503: it cools, and its probe follows
    await waitFor(() => lines.some((l) => l.startsWith("WARN probe: instance s is down")), 5000, "the first probe of s to fail");
    expect(lines.at(-1)).toEndWith("next probe in 30 s");
    await run({ gw, s, lines, send, reload: (instances, routing) => gw.reload(config(instances, routing)) });
  } finally {
    await gw.stop(0);
    await s.server.stop();
    await b.stop();
  }
}

describe("requests that pass a down instance over bring its next probe forward", () => {
  test("an external instance back up gets requests within the cap, not after its 30 s backoff; one probe at a time, never more often than the cap", () =>
    withDownInstance(async ({ s, send }) => {
      // q never failed on s, yet s is out there too: each request passes it over, and wants it.
      await pollRequests(() => s.probes.length >= 4, async () => expect(await send("q")).toBe("b/claude-b"), "probes brought forward by requests");
      expect(s.posts).toBe(1);
      expect(s.maxInFlightProbes).toBe(1);
      // Timers never fire early: each probe came at least the cap after the one before it ended.
      const gaps = s.probes.slice(1).map((p, i) => p.at - s.probes[i]!.at);
      expect(gaps.every((g) => g >= TIMING.wantedMs - 5)).toBe(true);

      s.healthy = true;
      await pollRequests(() => s.posts >= 2, () => send("q"), "a request of q to reach s once it answers");
      // r's target, held by the failed probes for the instance, is free with the probe that found s up: its trial goes to s.
      expect(await send("r")).toBe("s/claude-s");
    }), 30_000);
});

describe("the supervisor's word that it is ready", () => {
  test("clears the failed probe, and the targets it held come back after the next probe, brought forward too", () =>
    withDownInstance(async ({ gw, s, lines, send }) => {
      s.healthy = true;
      gw.availability("s", "ready");
      expect(await send("q")).toBe("s/claude-s");
      await waitFor(() => lines.some((l) => l.includes("probe: instance s answered")), 5000, "the probe that frees r's target");
      expect(await send("r")).toBe("s/claude-s");
    }), 30_000);
});

describe("a reload that changes the instance drops its failed probe", () => {
  test("a new url: the next request reaches the new address, and the held target is probed there at once", () =>
    withDownInstance(async ({ lines, send, reload }) => {
      const moved = flaky("s");
      moved.healthy = true;
      try {
        reload({ s: moved.server.url }, ROUTES);
        expect(await send("q")).toBe("s/claude-s"); // the first one: no probe needed to learn the old address's failure is moot
        await waitFor(() => moved.probes.length >= 1 && lines.some((l) => l.includes("probe: instance s answered")), 5000, "a probe of the new address");
        expect(await send("r")).toBe("s/claude-s");
      } finally {
        await moved.server.stop();
      }
    }), 30_000);

  test("removed, then added again: its failure is gone with it", () =>
    withDownInstance(async ({ s, lines, send, reload }) => {
      reload({}, ONLY_B);
      s.healthy = true;
      reload({ s: s.server.url }, ROUTES);
      expect(await send("q")).toBe("s/claude-s");
      expect(lines).toContain("INFO probe: instance s was removed (reload); its failed probe no longer counts");
    }), 30_000);
});
