// A stream that breaks after its first content reached the client cannot fail over (the client
// has half an answer), but its target failed all the same: it is judged as the same failure
// before content would be — cooled, so the session's next turn goes elsewhere, counted against
// its instance — and the request's record says so. A client that leaves mid-stream is no fault
// of the target's.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { memoryBackend } from "../../../src/state/index.ts";
import { HI, leaveMidStream, logRecords, pollRequests, type Rig, startRig, waitFor } from "../../helpers/resilience.ts";

/** One streamed Claude Code turn of session `sid`: where it went, and whether the SDK got a whole message. */
async function turn(rig: Rig, model: string, sid?: string): Promise<{ target: string; whole: boolean }> {
  const headers = sid ? { "x-claude-code-session-id": sid } : {};
  const { data, response } = await rig.anthropic().messages.stream({ model, max_tokens: 100, messages: HI }, { headers }).withResponse();
  const whole = await data.finalMessage().then(() => true, () => false);
  return { target: response.headers.get("x-gw-target") ?? "", whole };
}

/** A new session whose first turn landed on instance y (half of them do: the route weighs x and y alike). */
async function sessionOnY(rig: Rig, model: string): Promise<{ sid: string; whole: boolean }> {
  for (let i = 0; i < 60; i++) {
    const sid = crypto.randomUUID();
    const first = await turn(rig, model, sid);
    if (first.target.startsWith("y/")) return { sid, whole: first.whole };
  }
  throw new Error("no session landed on y in 60 tries");
}

describe("a session whose target breaks its answers after content", () => {
  let rig: Rig;
  const state = memoryBackend();
  beforeAll(() => {
    const pair = (y: string) => `[{ instance = "x", provider = "anthropic", model = "claude-x" }, { instance = "y", provider = "anthropic", model = "${y}" }]`;
    rig = startRig({
      gateway: { state },
      mocks: ["x", "y"],
      global: "lb_idle_timeout_ms = 1000",
      routing: [`"errors" = ${pair("claude-y~529~after=3")}`, `"cut" = ${pair("claude-y~cut=5")}`, `"stalls" = ${pair("claude-y~gap=4000~events=2")}`, `"hangs" = ${pair("claude-y~gap=4000~keepalive=100~events=2")}`, `"long" = [{ instance = "x", provider = "anthropic", model = "claude-x~interval=50~events=400" }]`].join("\n"),
    });
  });
  afterAll(() => rig.stop());

  test.each([
    ["errors", "an error event (529 Overloaded)", "transient", "transient"],
    ["cut", "a connection reset", "transient", "connection"],
    ["stalls", "gw's idle timeout (the upstream went silent)", "transient", "timeout"],
    ["hangs", "gw's idle timeout (the upstream hung, CLIProxyAPI's keep-alives went on)", "transient", "timeout"],
  ])("%s: after %s its target cools and the next turns move to the healthy one", async (route, _what, cls, kind) => {
    const { sid, whole } = await sessionOnY(rig, route);
    expect(whole).toBe(false); // y broke the answer after content
    const broken = (await logRecords(rig.dir, 1, (r) => r.request.model === route && r.response.broken === true))[0]!;
    expect(broken.routing.attempts).toHaveLength(1); // content had gone out: no failover
    expect(broken.routing.attempts[0]).toMatchObject({ instance: "y", class: cls });
    expect(broken.cooldowns).toEqual([expect.objectContaining({ route, target: `y/${broken.routing.attempts[0]!.model}`, kind })]);
    expect(state.cooldown(route, broken.routing.attempts[0]!.target, Date.now())).toBeDefined();
    // Claude Code sends the conversation again: each turn gets a whole answer, from x.
    for (let i = 0; i < 4; i++) expect(await turn(rig, route, sid)).toEqual({ target: "x/claude-x", whole: true });
  }, 30_000);

  test("a client that leaves mid-stream cools nothing", async () => {
    const before = rig.hits("x");
    await leaveMidStream(rig.anthropic(), "long");
    const [rec] = await logRecords(rig.dir, 1, (r) => r.request.model === "long");
    expect(rec!.response.client_left).toBe(true);
    expect(rec!.cooldowns).toEqual([]);
    expect(state.cooldown("long", "x/claude-x~interval=50~events=400", Date.now())).toBeUndefined();
    expect(rig.hits("x")).toBe(before + 1);
  }, 30_000);
});

describe("a half-open target's trial that breaks after content", () => {
  let rig: Rig;
  const state = memoryBackend();
  beforeAll(() => {
    rig = startRig({
      gateway: { state },
      mocks: ["x", "y"],
      global: "lb_transient_cooldown_ms = 1500",
      routing: `"r" = [{ instance = "y", provider = "anthropic", model = "claude-y~529~after=3", priority = 1 }, { instance = "x", provider = "anthropic", model = "claude-x" }]`,
    });
  });
  afterAll(() => rig.stop());

  test("counts as failed: the target cools again and the requests after it go elsewhere", async () => {
    expect(await turn(rig, "r")).toEqual({ target: "y/claude-y~529~after=3", whole: false });
    expect(await turn(rig, "r")).toEqual({ target: "x/claude-x", whole: true }); // y cools
    // Once its cooldown is over, y's instance is probed and y gets one trial, which breaks too.
    const y0 = rig.hits("y");
    await pollRequests(() => rig.hits("y") > y0, () => turn(rig, "r"), "a trial request to reach y");
    const trial = (await logRecords(rig.dir, 2, (r) => r.routing.attempts.some((a) => a.instance === "y")))[1]!;
    expect(trial.cooldowns).toEqual([expect.objectContaining({ route: "r", target: "y/claude-y~529~after=3", kind: "transient" })]);
    await waitFor(() => state.cooldown("r", "y/claude-y~529~after=3", Date.now()) !== undefined, 2000, "y to cool again");
    expect(trial.routing.attempts.map((a) => a.class)).toEqual(["transient"]);
    expect(await turn(rig, "r")).toEqual({ target: "x/claude-x", whole: true });
  }, 30_000);
});
