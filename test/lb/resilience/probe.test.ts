// Active probes: when a target's cooldown ends, gw asks its instance (an authenticated GET /v1/models
// for an external instance, GET /healthz for a managed one — no tokens) before a user's request may
// be its trial. An instance that is down stays out without costing a user request, is probed again
// with backoff, one probe in flight at a time; every probe shows in the log and in /metrics.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { flaky } from "../../helpers/flaky.ts";
import { configFrom, deadUrl, externalInstances, startTestGateway, testUpstream } from "../../helpers/lb.ts";
import { parseExposition } from "../../helpers/observe.ts";
import { claude, pollRequests, type Rig, startRig, waitFor } from "../../helpers/resilience.ts";
import type { RunningGateway } from "../../../src/lb/server.ts";
import { InstanceSet } from "../../../src/supervisor/instances.ts";
import { connectLiveState } from "../../../src/supervisor/live.ts";
import { buildStatus } from "../../../src/supervisor/status.ts";
import { DEFAULT_TIMING } from "../../../src/supervisor/timing.ts";
import { memoryBackend } from "../../../src/state/index.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { join } from "node:path";

// A generous timeout: the trial stays claimed until a probe answers, even on a slow machine.
const TIMING = { timeoutMs: 2000, backoffMs: 100, maxBackoffMs: 800 };

const lines: string[] = [];
const log = { info: (m: string) => lines.push(`INFO ${m}`), warn: (m: string) => lines.push(`WARN ${m}`) };

describe("an external instance that is down", () => {
  let rig: Rig;
  let s: ReturnType<typeof flaky>;
  beforeAll(() => {
    s = flaky("s");
    rig = startRig({
      mocks: ["b"],
      upstreams: { s: s.server.url },
      global: "lb_transient_heavy_cooldown_ms = 300",
      routing: `"r" = [{ instance = "s", provider = "anthropic", model = "claude-s", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b" }]`,
      gateway: { log, probeTiming: TIMING },
    });
  });
  afterAll(async () => {
    await rig.stop();
    await s.server.stop();
  });

  test("stays out without costing a user request; probes back off; when it answers, a trial brings it back", async () => {
    const first = await claude(rig.anthropic(), "r");
    expect([first.target, first.attempts, s.posts]).toEqual(["b/claude-b", 2, 1]);
    // Well past the cooldown (300 ms): every request still goes to b, and s gets only probes.
    const end = Date.now() + 1500;
    while (Date.now() < end) {
      expect(await claude(rig.anthropic(), "r")).toMatchObject({ target: "b/claude-b", attempts: 1 });
      await Bun.sleep(20);
    }
    expect(s.posts).toBe(1);
    expect(s.probes.length).toBeGreaterThanOrEqual(3);
    // The probe is token-free and authenticated with the instance's key.
    expect(s.probes.every((p) => p.path === "/v1/models" && p.auth === "Bearer key-s")).toBe(true);
    // Backoff: the gaps between probes grow (100, 200, 400 ms … at least; timers never fire early).
    const gaps = s.probes.slice(1).map((p, i) => p.at - s.probes[i]!.at);
    gaps.slice(0, 3).forEach((g, i) => expect(g).toBeGreaterThanOrEqual(TIMING.backoffMs * 2 ** i - 5));
    expect(lines.some((l) => l.startsWith("WARN probe: instance s is down (GET /v1/models 503"))).toBe(true);
    // The cooling the first request set is said once, with why; the probes that keep it out are their own lines.
    expect(lines.filter((l) => l.includes("cooling: r → s/claude-s"))).toEqual([expect.stringMatching(/^WARN cooling: r → s\/claude-s for 300 ms \(transient_heavy: 503 .*sick/)]);

    // What gw up shows of it meanwhile (the supervisor's rows feed gw status, /metrics and the
    // page): down, not "external" and up. An operator's alert on gw_instance_up == 0 fires.
    const gw = rig.gw as RunningGateway;
    const noop = () => {};
    const set = new InstanceSet(gw.config(), { timing: DEFAULT_TIMING, env: {}, log: { info: noop, warn: noop, error: noop }, logFile: () => "/dev/null", childrenChanged: noop });
    const sources = () => ({ config: gw.config(), set, gateway: gw, phase: "serving" as const, startedAt: Date.now(), demo: false });
    await connectLiveState(sources, { info: noop, warn: noop, error: noop });
    const instanceRows = () => buildStatus(sources()).instances.map((i) => [i.name, i.state]);
    const upNow = async () => {
      const m = parseExposition(await (await fetch(`${gw.url}/metrics`)).text()).samples;
      const page = (await (await fetch(`${gw.url}/_gw/api/status`)).json()) as { instances: { name: string; state: string; up: boolean }[] };
      return { s: m.get('gw_instance_up{instance_name="s"}'), b: m.get('gw_instance_up{instance_name="b"}'), page: page.instances.map((i) => [i.name, i.state, i.up]) };
    };
    expect(instanceRows()).toEqual([["b", "external"], ["s", "down"]]);
    expect(await upNow()).toEqual({ s: 0, b: 1, page: [["b", "external", true], ["s", "down", false]] });

    s.healthy = true;
    await waitFor(() => lines.some((l) => l.includes("probe: instance s answered")), 5000, "a probe to find s up");
    expect(instanceRows()).toEqual([["b", "external"], ["s", "external"]]);
    expect(await upNow()).toEqual({ s: 1, b: 1, page: [["b", "external", true], ["s", "external", true]] });
    await pollRequests(() => s.posts === 2, () => claude(rig.anthropic(), "r"), "the trial request to reach s");
    expect(await claude(rig.anthropic(), "r")).toMatchObject({ target: "s/claude-s", attempts: 1 });
    // Its cooling's end is said as its start was, once: by the trial, not by the requests after it.
    expect(lines.filter((l) => l.includes("cooling over"))).toEqual(["INFO cooling over: r → s/claude-s (its trial request was answered)"]);

    const metrics = parseExposition(await (await fetch(`${rig.gw.url}/metrics`)).text()).samples;
    expect(metrics.get('gw_probes_total{instance_name="s",result="down"}')).toBeGreaterThanOrEqual(3);
    expect(metrics.get('gw_probes_total{instance_name="s",result="up"}')).toBeGreaterThanOrEqual(1);
  }, 30_000);
});

describe("the log", () => {
  test("a target cooled by requests is said once per cooling, not once per request that failed on it; a failed trial cools it again, said again", async () => {
    const s = flaky("s");
    s.postDelayMs = 500; // the requests below are in flight on s together when it answers them 503
    const lines: string[] = [];
    const rig = startRig({ mocks: ["b"], upstreams: { s: s.server.url }, global: "lb_transient_heavy_cooldown_ms = 300", routing: `"r" = [{ instance = "s", provider = "anthropic", model = "claude-s", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b" }]`, gateway: { log: { info: (m) => lines.push(m), warn: (m) => lines.push(m) }, probeTiming: TIMING } });
    const cooling = () => lines.filter((l) => l.startsWith("cooling:"));
    try {
      const answers = await Promise.all([1, 2, 3, 4].map(() => claude(rig.anthropic(), "r")));
      expect(answers.map((a) => a.target)).toEqual(["b/claude-b", "b/claude-b", "b/claude-b", "b/claude-b"]);
      const failed = s.posts; // 4, unless a request reached gw only after s had cooled
      expect(failed).toBeGreaterThan(1);
      expect(cooling()).toEqual([expect.stringMatching(/^cooling: r → s\/claude-s for 300 ms \(transient_heavy: 503 .*sick/)]);
      // The instance answers its probe, but its model still fails: the trial request cools s again.
      s.healthy = true;
      s.postsFail = true;
      s.postDelayMs = 0;
      await pollRequests(() => s.posts === failed + 1, () => claude(rig.anthropic(), "r"), "the trial request to reach s");
      await waitFor(() => cooling().length === 2, 5000, "the second cooling in the log");
      expect(lines.some((l) => l.startsWith("probe: instance s answered"))).toBe(true);
      expect(cooling()[1]).toMatch(/^cooling: r → s\/claude-s for 300 ms \(transient_heavy: 503 .*sick/);
      expect(lines.filter((l) => l.startsWith("cooling over"))).toEqual([]); // the trial failed
    } finally {
      await rig.stop();
      await s.server.stop();
    }
  }, 30_000);
  test("a request sent before its target cooled, answered after: the cooling stands (its answer says nothing of what cooled the target)", async () => {
    let posts = 0;
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    const s = testUpstream(async (req) => {
      if (req.method === "GET") return Response.json({ object: "list", data: [] });
      const n = ++posts;
      if (n === 1) await held; // the first request is still on its way when the second fails
      if (n === 2) return Response.json({ type: "error", error: { type: "rate_limit_error", message: "slow down" } }, { status: 429 });
      return Response.json({ id: "m", type: "message", role: "assistant", model: "x", content: [{ type: "text", text: "from s" }], stop_reason: "end_turn", usage: { input_tokens: 1, output_tokens: 1 } });
    });
    const lines: string[] = [];
    const rig = startRig({ mocks: ["b"], upstreams: { s: s.url }, routing: `"r" = [{ instance = "s", provider = "anthropic", model = "claude-s", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b" }]`, gateway: { log: { info: (m) => lines.push(m), warn: (m) => lines.push(m) }, probeTiming: TIMING } });
    try {
      const slow = claude(rig.anthropic(), "r");
      await waitFor(() => posts === 1, 5000, "the first request on s");
      expect(await claude(rig.anthropic(), "r")).toMatchObject({ target: "b/claude-b", attempts: 2 });
      expect(lines).toEqual([expect.stringMatching(/^cooling: r → s\/claude-s for 2 min \(transient_heavy: 429 /)]);
      release();
      // Admitted before the rate limit, it finishes on s: the limit still stands for new requests.
      expect(await slow).toMatchObject({ target: "s/claude-s", attempts: 1 });
      expect(await claude(rig.anthropic(), "r")).toMatchObject({ target: "b/claude-b", attempts: 1 });
      expect(posts).toBe(2); // s was sent nothing more
      expect(lines).toHaveLength(1);
    } finally {
      await rig.stop();
      await s.stop();
    }
  }, 30_000);

  test("a cooling its trial request ended: the target's next cooling is said again", async () => {
    let posts = 0;
    const s = testUpstream(async (req) => {
      if (req.method === "GET") return Response.json({ object: "list", data: [] });
      const n = ++posts;
      if (n === 1 || n === 3) return Response.json({ type: "error", error: { type: "rate_limit_error", message: "slow down" } }, { status: 429 });
      return Response.json({ id: "m", type: "message", role: "assistant", model: "x", content: [{ type: "text", text: "from s" }], stop_reason: "end_turn", usage: { input_tokens: 1, output_tokens: 1 } });
    });
    const lines: string[] = [];
    const rig = startRig({ mocks: ["b"], upstreams: { s: s.url }, global: "lb_transient_heavy_cooldown_ms = 300", routing: `"r" = [{ instance = "s", provider = "anthropic", model = "claude-s", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b" }]`, gateway: { log: { info: (m) => lines.push(m), warn: (m) => lines.push(m) }, probeTiming: TIMING } });
    try {
      expect(await claude(rig.anthropic(), "r")).toMatchObject({ target: "b/claude-b", attempts: 2 });
      // Its cooling over and its instance probed, the trial request is answered by s.
      await pollRequests(() => posts === 2, () => claude(rig.anthropic(), "r"), "the trial request to reach s");
      await waitFor(() => lines.includes("cooling over: r → s/claude-s (its trial request was answered)"), 5000, "the trial's end of the cooling in the log");
      // It fails again: a new cooling, in the log as the first was (its old one's watch had kept it quiet).
      expect(await claude(rig.anthropic(), "r")).toMatchObject({ target: "b/claude-b", attempts: 2 });
      expect(lines.filter((l) => l.startsWith("cooling:"))).toEqual([
        expect.stringMatching(/^cooling: r → s\/claude-s for 300 ms \(transient_heavy: 429 /),
        expect.stringMatching(/^cooling: r → s\/claude-s for 300 ms \(transient_heavy: 429 /),
      ]);
    } finally {
      await rig.stop();
      await s.stop();
    }
  }, 30_000);

  test("a target whose instance cannot be reached: the cooling says the connection's failure once, not its kind twice", async () => {
    const lines: string[] = [];
    const rig = startRig({ mocks: ["b"], upstreams: { s: deadUrl() }, routing: `"r" = [{ instance = "s", provider = "anthropic", model = "claude-s", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b" }]`, gateway: { log: { info: (m) => lines.push(m), warn: (m) => lines.push(m) }, probeTiming: TIMING } });
    try {
      expect(await claude(rig.anthropic(), "r")).toMatchObject({ target: "b/claude-b", attempts: 2 });
      expect(lines.filter((l) => l.startsWith("cooling:"))).toEqual([expect.stringMatching(/^cooling: r → s\/claude-s for 60 s \(connection: (?!connection:)\S/)]);
    } finally {
      await rig.stop();
    }
  }, 30_000);
});

describe("bounds", () => {
  test("one probe in flight per instance, however many of its targets cool", async () => {
    const s = flaky("s");
    s.probeDelayMs = 300; // each probe takes a while
    const routes = ["r1", "r2", "r3", "r4"].map((r) => `"${r}" = [{ instance = "s", provider = "anthropic", model = "claude-s", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b" }]`);
    const rig = startRig({ mocks: ["b"], upstreams: { s: s.server.url }, global: "lb_transient_heavy_cooldown_ms = 200", routing: routes.join("\n"), gateway: { log, probeTiming: TIMING } });
    try {
      await Promise.all(["r1", "r2", "r3", "r4"].map((r) => claude(rig.anthropic(), r)));
      expect(s.posts).toBe(4);
      await waitFor(() => s.probes.length >= 3, 10_000, "three probes");
      expect(s.maxInFlightProbes).toBe(1);
      expect(s.posts).toBe(4);
    } finally {
      await rig.stop();
      await s.server.stop();
    }
  }, 30_000);

  test("targets of a down instance whose cooldowns end one after another wait for its next probe: one probe per backoff, not one per target", async () => {
    const s = flaky("s");
    const lines: string[] = [];
    const names = ["r1", "r2", "r3", "r4", "r5"];
    const routes = names.map((r) => `"${r}" = [{ instance = "s", provider = "anthropic", model = "claude-s", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b" }]`);
    const timing = { timeoutMs: 2000, backoffMs: 1500, maxBackoffMs: 3000 };
    const rig = startRig({ mocks: ["b"], upstreams: { s: s.server.url }, global: "lb_transient_heavy_cooldown_ms = 1000", routing: routes.join("\n"), gateway: { log: { info: (m) => lines.push(m), warn: (m) => lines.push(m) }, probeTiming: timing } });
    try {
      // Cooldowns that end 60 ms or more apart, as a day's traffic spreads them (all set before the first ends).
      for (const r of names) {
        await claude(rig.anthropic(), r);
        await Bun.sleep(60);
      }
      expect(s.posts).toBe(5);
      await waitFor(() => s.probes.length >= 2, 10_000, "the second probe of s");
      // Timers never fire early: the next probe waits the whole backoff, for every target.
      expect(s.probes[1]!.at - s.probes[0]!.at).toBeGreaterThanOrEqual(timing.backoffMs - 5);
      expect(lines.filter((l) => l.startsWith("probe: instance s is down"))[0]).toMatch(/its 5 cooling target\(s\) stay out, next probe in 1\.5 s$/);
      expect(s.posts).toBe(5);
    } finally {
      await rig.stop();
      await s.server.stop();
    }
  }, 30_000);

  test("a cooldown the state brought back (a restart, an upgrade) is probed before a user's request is its trial", async () => {
    const s = flaky("s");
    const b = testUpstream();
    const dir = tempDir("gw-probe-");
    // The state as gw finds it in its file after a restart: s cooled, the cooldown over a moment later.
    const state = memoryBackend();
    const now = Date.now();
    state.setCooldown("r", "s/claude-s", { until: now + 200, kind: "transient_heavy", reason: "503 sick", setAt: now - 60_000 });
    const linesBefore = lines.length;
    const gw: RunningGateway = startTestGateway(
      configFrom(
        `${externalInstances({ s: s.server.url, b: b.url })}\n[routing]\n"r" = [{ instance = "s", provider = "anthropic", model = "claude-s", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b" }]\n`,
        join(dir, "providers.toml"),
      ),
      // A long backoff: the request below must meet s cooling after its failed probe, not half-open again.
      { log, probeTiming: { timeoutMs: 2000, backoffMs: 10_000, maxBackoffMs: 10_000 }, state },
    );
    try {
      // No request is sent: the probe comes by itself, finds s down, and s stays out.
      await waitFor(() => s.probes.length >= 1, 5000, "a probe of s without any request");
      await waitFor(() => (state.cooldown("r", "s/claude-s", Date.now())?.until ?? 0) > Date.now(), 5000, "s cooling again after its failed probe");
      const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "r", max_tokens: 5, messages: [] }) });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-gw-target")).toBe("b/claude-b");
      expect(s.posts).toBe(0);
      // No request of this gw cooled s: its log says the probe, not a cooling.
      expect(lines.slice(linesBefore).filter((l) => l.includes("cooling: "))).toEqual([]);
      expect(lines.slice(linesBefore).some((l) => l.startsWith("WARN probe: instance s is down"))).toBe(true);
    } finally {
      await gw.stop(0);
      await s.server.stop();
      await b.stop();
    }
  });

  test("a cooldown brought back already over (half-open, kept across the restart) is held for its probe from the start, not from its long-past end", async () => {
    const s = flaky("s");
    s.healthy = true;
    const b = testUpstream();
    const dir = tempDir("gw-probe-");
    // Ended five minutes ago; the file keeps it half-open for ten (state/types.ts HALF_OPEN_KEEP_MS).
    const state = memoryBackend();
    const now = Date.now();
    state.setCooldown("r", "s/claude-s", { until: now - 300_000, kind: "transient_heavy", reason: "503 sick", setAt: now - 360_000 });
    const gw: RunningGateway = startTestGateway(
      configFrom(
        `${externalInstances({ s: s.server.url, b: b.url })}\n[routing]\n"r" = [{ instance = "s", provider = "anthropic", model = "claude-s", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b" }]\n`,
        join(dir, "providers.toml"),
      ),
      { log, probeTiming: TIMING, state },
    );
    try {
      // The gateway serves from here on: a request now must not find the trial free before the probe ran.
      const c = state.cooldown("r", "s/claude-s", Date.now());
      expect(c?.trialUntil).toBeGreaterThan(Date.now());
      // s answers its probe: the trial goes to the next request, which s serves.
      await waitFor(() => s.probes.length >= 1 && state.cooldown("r", "s/claude-s", Date.now())?.trialUntil === undefined, 5000, "s probed and its trial free");
      const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "r", max_tokens: 5, messages: [] }) });
      expect(res.headers.get("x-gw-target")).toBe("s/claude-s");
      expect(state.cooldown("r", "s/claude-s", Date.now())).toBeUndefined();
    } finally {
      await gw.stop(0);
      await s.server.stop();
      await b.stop();
    }
  });

  test("a managed instance is probed at /healthz, without a key", async () => {
    const s = flaky("m");
    const b = testUpstream();
    const port = Number(new URL(s.server.url).port);
    const dir = tempDir("gw-probe-");
    const gw: RunningGateway = startTestGateway(
      configFrom(
        `[global]\nlb_transient_heavy_cooldown_ms = 100\n[instances.m]\nport = ${port}\nproviders = [{ type = "anthropic", api_keys = ["sk"] }]\n${externalInstances({ b: b.url })}\n` +
          `[routing]\n"r" = [{ instance = "m", provider = "anthropic", model = "x", priority = 1 }, { instance = "b", provider = "anthropic", model = "y" }]\n`,
        join(dir, "providers.toml"),
      ),
      { log, probeTiming: TIMING },
    );
    try {
      const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "r", max_tokens: 5, messages: [] }) });
      expect(res.headers.get("x-gw-attempts")).toBe("2");
      await waitFor(() => s.probes.length >= 1, 5000, "a probe of m");
      expect(s.probes[0]).toMatchObject({ path: "/healthz", auth: null });
    } finally {
      await gw.stop(0);
      await s.server.stop();
      await b.stop();
    }
  });
});
