// Cooldowns end to end: old-lb.md's class table with the lb_*_cooldown_ms keys (read back from the
// request log), Retry-After capped by the class cooldown, all targets cooling (the soonest-ending
// one answers, never a hard 503), cooldowns scoped per (route, target). Recovery: recovery.test.ts.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { answeredBy, chat, claude, errorExplained, logRecords, pollRequests, type Rig, rejection, startRig } from "../../helpers/resilience.ts";

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
        `"kept" = ${pair("claude-a~503")}`,
        `"q" = [${[["a", 1], ["b", 2], ["a", 3]].map(([i, n]) => `{ instance = "${i}", provider = "anthropic", model = "claude-q${n}~429=30~passthrough" }`).join(", ")}]`,
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

  test("when the soonest-back target fails too, the request ends with gw's 503: no other cooling account is asked", async () => {
    // Two requests cool all three (each 429 says Retry-After: 30): the first tries two, the second the third.
    for (let i = 0; i < 2; i++) await rejection(claude(rig.anthropic(), "q"));
    for (let i = 0; i < 5; i++) {
      const hits = rig.hits("a") + rig.hits("b");
      const err = await rejection(claude(rig.anthropic(), "q"));
      expect(errorExplained(err)).toMatchObject({ status: 503, attempts: 1 });
      expect((err as Error).message).toContain("every target is out");
      expect((err as Error).message).toContain("rate limited or overloaded");
      expect(Number((err as InstanceType<typeof Anthropic.APIError>).headers?.get("retry-after"))).toBeWithin(1, 31);
      expect(rig.hits("a") + rig.hits("b")).toBe(hits + 1);
    }
  }, 30_000);

  test("a route's only target cooling is still used, not a 503 from gw", async () => {
    const err = await rejection(claude(rig.anthropic(), "single", { headers: { "x-mock-fault": "503" } }));
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect((err as Error).message).toContain("auth_unavailable"); // the upstream's own answer
    const ok = await claude(rig.anthropic(), "single", { stream: true });
    expect(ok).toMatchObject({ status: 200, attempts: 1, target: "a/claude-a" });
  }, 30_000);

  test("a config reload keeps the cooldowns (and everything else the state store holds)", async () => {
    expect(await claude(rig.anthropic(), "kept")).toMatchObject({ status: 200, attempts: 2, target: "b/claude-b" });
    rig.gw.reload(rig.gw.config());
    const a0 = rig.hits("a");
    expect(await claude(rig.anthropic(), "kept")).toMatchObject({ status: 200, attempts: 1, target: "b/claude-b" });
    expect(rig.hits("a")).toBe(a0);
  }, 30_000);

  test("cooldowns belong to (route, target): the same instance and model stays usable in another route", async () => {
    const err = await rejection(claude(rig.anthropic(), "scope-1", { headers: { "x-mock-fault": "503" } }));
    expect(errorExplained(err)).toMatchObject({ status: 503, attempts: 2 }); // a, then b: both cool in scope-1
    const a0 = rig.hits("a");
    expect(await claude(rig.anthropic(), "scope-2")).toMatchObject({ status: 200, attempts: 1, target: "a/claude-a" });
    expect(rig.hits("a")).toBe(a0 + 1);
  }, 30_000);
});
