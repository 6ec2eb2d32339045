// Half-open recovery end to end: an instance that died and came back gets one trial request once
// its cooldown is over; success makes it healthy, failure cools it again, and a trial that ends
// without a verdict (client gone, client's own 400) must not keep the target out.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { claude, pollRequests, type Rig, rejection, startRig, waitFor } from "../../helpers/resilience.ts";

const pair = (a: string) => `[
  { instance = "a", provider = "anthropic", model = "${a}", priority = 1 },
  { instance = "b", provider = "anthropic", model = "claude-b" },
]`;

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

