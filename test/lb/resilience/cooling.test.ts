// Cooldowns end to end: old-lb.md's class table with the lb_*_cooldown_ms keys (read back from the
// request log), Retry-After capped by the class cooldown, all targets cooling (the soonest-ending
// one answers, never a hard 503), and half-open recovery after an instance comes back.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { answeredBy, chat, claude, errorExplained, logRecords, type Rig, rejection, startRig, waitFor } from "../../helpers/resilience.ts";

const pair = (a: string, extra = "") => `[
  { instance = "a", provider = "anthropic", model = "${a}", priority = 1${extra} },
  { instance = "b", provider = "anthropic", model = "claude-b" },
]`;

describe("class table: each class sets its own lb_*_cooldown_ms", () => {
  // Distinct values, so the log says which key applied.
  const MS = { auth: 610_000, quota: 620_000, validation: 630_000, transient: 640_000, transient_heavy: 650_000, signature: 660_000 };
  const CASES: [string, string, { class: string; kind: string; ms: number } | undefined][] = [
    ["401", "claude-a~401", { class: "auth", kind: "auth", ms: MS.auth }],
    ["403 insufficient_quota", "claude-a~403", { class: "auth", kind: "quota", ms: MS.quota }],
    ["503 auth_unavailable", "claude-a~503", { class: "auth", kind: "auth", ms: MS.auth }],
    ["503 gzip-compressed", "claude-a~gzip~503", { class: "auth", kind: "auth", ms: MS.auth }],
    ["429 with reset_seconds beyond the cap", "claude-a~429=3600", { class: "transient", kind: "transient_heavy", ms: MS.transient_heavy }],
    // CLIProxyAPI's OpenAI-shaped 429 carries reset_seconds in its body (its Claude handler drops it).
    ["429 with reset_seconds below the cap (OpenAI chat)", "claude-a~429=30", { class: "transient", kind: "transient_heavy", ms: 30_000 }],
    ["429 with Retry-After below the cap", "claude-a~429=45~passthrough", { class: "transient", kind: "transient_heavy", ms: 45_000 }],
    ["500", "claude-a~500", { class: "transient", kind: "transient", ms: MS.transient }],
    ["408", "claude-a~408", { class: "transient", kind: "transient", ms: MS.transient }],
    ["529", "claude-a~529", { class: "transient", kind: "transient", ms: MS.transient }],
    ["first-byte timeout", "claude-a~hang", { class: "transient", kind: "timeout", ms: MS.transient }],
    ["400", "claude-a~400", undefined],
  ];
  const routeOf = (i: number) => `class-${i}`;
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({
      mocks: ["a", "b"],
      global: Object.entries(MS)
        .map(([k, v]) => `lb_${k}_cooldown_ms = ${v}`)
        .join("\n"),
      routing: CASES.map(([, model], i) => `"${routeOf(i)}" = ${pair(model, model.endsWith("hang") ? ", first_byte_timeout_ms = 300" : "")}`).join("\n"),
    });
  });
  afterAll(() => rig.stop());

  CASES.forEach(([name, model, want], i) => {
    test(`${name} → ${want ? `${want.kind} cooldown of ${want.ms} ms` : "no cooldown"}`, async () => {
      const route = routeOf(i);
      const call = name.includes("OpenAI") ? chat(rig.openai(), route) : claude(rig.anthropic(), route);
      await call.catch((e: unknown) => e);
      const [rec] = await logRecords(rig.dir, 1, (r) => r.request.model === route);
      expect(rec!.routing.attempts[0]).toMatchObject({ target: `a/${model}`, status: model.endsWith("hang") ? 0 : expect.any(Number) });
      if (!want) {
        expect(rec!.routing.attempts[0]!.class).toBe("client");
        expect(rec!.cooldowns).toEqual([]);
        return;
      }
      expect(rec!.routing.attempts[0]!.class).toBe(want.class);
      expect(rec!.cooldowns).toHaveLength(1);
      expect(rec!.cooldowns[0]).toMatchObject({ route, target: `a/${model}`, kind: want.kind, ms: want.ms });
    }, 30_000);
  });
});

describe("Retry-After is honoured below the class cooldown and capped by it", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({
      mocks: ["a", "b"],
      global: "lb_transient_heavy_cooldown_ms = 1500",
      routing: `"short-reset" = ${pair("claude-a~429=1~passthrough")}\n"capped" = ${pair("claude-a~429=3600~passthrough")}`,
    });
  });
  afterAll(() => rig.stop());

  for (const [route, ms] of [["short-reset", 1000], ["capped", 1500]] as const) {
    test(`${route}: cooled ${ms} ms, then tried again`, async () => {
      const a0 = rig.hits("a");
      expect(await claude(rig.anthropic(), route)).toMatchObject({ status: 200, attempts: 2, target: "b/claude-b" });
      const [rec] = await logRecords(rig.dir, 1, (r) => r.request.model === route);
      expect(rec!.cooldowns[0]).toMatchObject({ kind: "transient_heavy", ms });
      // An hour's Retry-After would keep it away for an hour: it comes back within the cap.
      await pollRequests(() => rig.hits("a") > a0 + 1, () => claude(rig.anthropic(), route), `${route}: target a asked again`);
    }, 30_000);
  }
});

describe("every target cooling", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({
      mocks: ["a", "b"],
      // Retry-After (600 s / 1200 s) decides which cooldown ends first.
      global: "lb_transient_heavy_cooldown_ms = 3600000\nlb_auth_cooldown_ms = 3600000",
      routing: [
        `"soon-a" = [{ instance = "a", provider = "anthropic", model = "claude-a", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b~429=1200~passthrough" }]`,
        `"soon-b" = [{ instance = "a", provider = "anthropic", model = "claude-a~429=1200~passthrough", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b" }]`,
        `"single" = [{ instance = "a", provider = "anthropic", model = "claude-a" }]`,
        `"scope-1" = ${pair("claude-a")}`,
        `"scope-2" = ${pair("claude-a")}`,
      ].join("\n"),
    });
  });
  afterAll(() => rig.stop());

  for (const [route, soonest, other] of [["soon-a", "a", "b"], ["soon-b", "b", "a"]] as const) {
    test(`${route}: the target whose cooldown ends soonest (${soonest}) answers`, async () => {
      // Both fail: the header gives a 600 s Retry-After, the other target's model suffix 1200 s.
      const err = await rejection(claude(rig.anthropic(), route, { headers: { "x-mock-fault": "429=600~passthrough" } }));
      expect(err).toBeInstanceOf(Anthropic.RateLimitError);
      expect(errorExplained(err).attempts).toBe(2);
      const [s0, o0] = [rig.hits(soonest), rig.hits(other)];
      for (const stream of [false, true]) {
        const ok = await claude(rig.anthropic(), route, { stream });
        expect(ok).toMatchObject({ status: 200, attempts: 1 });
        expect(answeredBy(ok.text)).toBe(soonest);
      }
      expect(rig.hits(soonest)).toBe(s0 + 2);
      expect(rig.hits(other)).toBe(o0);
    }, 30_000);
  }

  test("a route's only target cooling is still used, not a 503 from gw", async () => {
    const err = await rejection(claude(rig.anthropic(), "single", { headers: { "x-mock-fault": "503" } }));
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect((err as Error).message).toContain("auth_unavailable"); // the upstream's own answer
    const ok = await claude(rig.anthropic(), "single", { stream: true });
    expect(ok).toMatchObject({ status: 200, attempts: 1, target: "a/claude-a" });
  }, 30_000);

  test("cooldowns belong to (route, target): the same instance and model stays usable in another route", async () => {
    const err = await rejection(claude(rig.anthropic(), "scope-1", { headers: { "x-mock-fault": "503" } }));
    expect(errorExplained(err)).toMatchObject({ status: 503, attempts: 2 }); // a, then b: both cool in scope-1
    const a0 = rig.hits("a");
    expect(await claude(rig.anthropic(), "scope-2")).toMatchObject({ status: 200, attempts: 1, target: "a/claude-a" });
    expect(rig.hits("a")).toBe(a0 + 1);
  }, 30_000);
});

describe("half-open recovery", () => {
  let rig: Rig;
  beforeAll(() => {
    rig = startRig({
      mocks: ["a", "b"],
      global: "lb_transient_cooldown_ms = 400\nlb_auth_cooldown_ms = 600000",
      routing: `"r" = ${pair("claude-a")}\n"r2" = ${pair("claude-a")}\n"r3" = ${pair("claude-a")}\n"r4" = ${pair("claude-a")}`,
    });
  });
  afterAll(() => rig.stop());
  const ask = () => claude(rig.anthropic(), "r");

  /** Send requests until the target `a` is asked again after its cooldown (its trial). */
  const untilTrial = (a0: number) => pollRequests(() => rig.hits("a") > a0, ask, "a trial request to reach a");

  test("an instance that comes back gets a trial; success makes it healthy again", async () => {
    await rig.kill("a");
    expect(await ask()).toMatchObject({ status: 200, attempts: 2, target: "b/claude-b" });
    rig.revive("a");
    await untilTrial(0);
    for (let i = 0; i < 5; i++) expect(await ask()).toMatchObject({ target: "a/claude-a", attempts: 1 });
    expect(rig.hits("a")).toBe(6);
  }, 30_000);

  test("while the trial is in flight, other requests keep away; a failed trial cools again", async () => {
    await rig.kill("a");
    expect(await ask()).toMatchObject({ status: 200, attempts: 2, target: "b/claude-b" });
    // Back, but slow and then refusing the credential.
    rig.revive("a", "slow-first=3000~401");
    const pending: Promise<unknown>[] = [];
    await waitFor(
      () => {
        if (rig.mocks.a!.stats().inFlight === 0) pending.push(ask());
        return rig.mocks.a!.stats().inFlight === 1;
      },
      20_000,
      "the trial request to reach a",
    );
    let duringTrial = 0;
    while (rig.mocks.a!.stats().inFlight === 1 && duringTrial < 5) {
      expect(await ask()).toMatchObject({ target: "b/claude-b", attempts: 1 });
      if (rig.mocks.a!.stats().inFlight === 1) duringTrial++;
    }
    expect(duringTrial).toBeGreaterThan(0);
    expect(rig.hits("a")).toBe(1);
    for (const p of pending) expect(await p).toMatchObject({ status: 200, target: "b/claude-b" }); // the trial's 401 failed over
    for (let i = 0; i < 5; i++) expect(await ask()).toMatchObject({ target: "b/claude-b", attempts: 1 });
    expect(rig.hits("a")).toBe(1);
  }, 30_000);

  test("a burst of concurrent requests when the cooldown ends sends exactly one trial", async () => {
    await rig.kill("a");
    expect(await claude(rig.anthropic(), "r4")).toMatchObject({ status: 200, attempts: 2, target: "b/claude-b" });
    rig.revive("a", "slow-first=3000");
    const bursts: Promise<unknown>[] = [];
    await pollRequests(
      () => rig.hits("a") > 0,
      async () => {
        const burst = Array.from({ length: 20 }, () => claude(rig.anthropic(), "r4"));
        bursts.push(...burst);
        await Promise.race([Promise.all(burst), waitFor(() => rig.hits("a") > 0, 10_000).catch(() => {})]);
      },
      "a's trial",
    );
    const answers = (await Promise.all(bursts)) as Awaited<ReturnType<typeof claude>>[];
    expect(rig.hits("a")).toBe(1);
    expect(answers.filter((r) => r.target === "a/claude-a")).toHaveLength(1);
    expect(answers.every((r) => r.status === 200)).toBe(true);
  }, 60_000);

  test("a trial whose client left ends the trial: the target is tried again after its cooldown", async () => {
    await rig.kill("a");
    expect(await claude(rig.anthropic(), "r2")).toMatchObject({ status: 200, attempts: 2, target: "b/claude-b" });
    rig.revive("a", "slow-first=5000");
    // Requests until one is a's trial (it then waits at a); that one's client gives up.
    for (;;) {
      const ctrl = new AbortController();
      let settled = false;
      const p = rig
        .anthropic()
        .messages.create({ model: "r2", max_tokens: 64, messages: [{ role: "user", content: "hi" }] }, { signal: ctrl.signal })
        .catch((e: unknown) => e)
        .finally(() => (settled = true));
      await waitFor(() => settled || rig.mocks.a!.stats().inFlight === 1, 20_000, "an answer or the trial at a");
      if (settled) continue;
      ctrl.abort();
      expect(await p).toBeInstanceOf(Anthropic.APIUserAbortError);
      break;
    }
    await waitFor(() => rig.mocks.a!.stats().inFlight === 0, 10_000, "a to see the client leave");
    await rig.kill("a");
    rig.revive("a"); // healthy now
    // The abandoned trial gave no verdict; the next one may go as soon as the cooldown allows
    // (lb_transient_cooldown_ms = 400), not after the first-byte timeout (120 s).
    await pollRequests(() => rig.hits("a") > 0, () => claude(rig.anthropic(), "r2"), "a tried again after the abandoned trial");
    expect(await claude(rig.anthropic(), "r2")).toMatchObject({ target: "a/claude-a", attempts: 1 });
  }, 60_000);

  test("a trial answered with the client's own error (400) ends the trial too", async () => {
    await rig.kill("a");
    expect(await claude(rig.anthropic(), "r3")).toMatchObject({ status: 200, attempts: 2, target: "b/claude-b" });
    rig.revive("a");
    // Every request is a bad one now, so whichever becomes a's trial gets a 400 from it.
    const bad = { headers: { "x-mock-fault": "400" } };
    await pollRequests(() => rig.hits("a") === 1, () => rejection(claude(rig.anthropic(), "r3", bad)), "a's trial");
    expect(rig.mocks.a!.stats(1).last[0]!.status).toBe(400);
    // a answered: it is up. Good requests reach it again once its cooldown allows, not after 120 s.
    await pollRequests(() => rig.hits("a") === 2, () => claude(rig.anthropic(), "r3"), "a asked again after its 400 trial");
  }, 60_000);
});

/** Send one request after another (paced) until `done` holds; fail after 10 s. */
async function pollRequests(done: () => boolean, send: () => Promise<unknown>, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out (10 s) waiting for ${what}`);
    await send();
    await Bun.sleep(20);
  }
}
