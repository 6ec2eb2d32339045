// `gw status` counts, per instance, the attempts that failed there. A stream that broke after its
// first content (an upstream error event, a reset, silence past lb_idle_timeout_ms) failed on its
// instance as surely as a late error object in a JSON body does; a client that left did not.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { HI, leaveMidStream, type Rig, rejection, startRig, waitFor } from "../../helpers/resilience.ts";

let rig: Rig;
beforeAll(() => {
  rig = startRig({
    mocks: ["a"],
    global: "lb_idle_timeout_ms = 1000",
    routing: [
      `"errors" = [{ instance = "a", provider = "anthropic", model = "claude-a~529~after=3" }]`,
      `"cut" = [{ instance = "a", provider = "anthropic", model = "claude-a~cut=5" }]`,
      `"stalls" = [{ instance = "a", provider = "anthropic", model = "claude-a~gap=4000~events=2" }]`,
      `"long" = [{ instance = "a", provider = "anthropic", model = "claude-a~interval=50~events=400" }]`,
    ].join("\n"),
  });
});
afterAll(() => rig.stop());

const counts = () => rig.gw.stats().byInstance.a ?? { requests: 0, errors: 0 };

test.each(["errors", "cut", "stalls"])("%s: a stream broken after content counts as an error of its instance", async (route) => {
  const before = counts();
  await rejection(rig.anthropic().messages.stream({ model: route, max_tokens: 100, messages: HI }).finalMessage());
  await waitFor(() => rig.gw.stats().openStreams === 0, 5000, "the stream to be closed");
  expect(counts()).toEqual({ requests: before.requests + 1, errors: before.errors + 1 });
}, 30_000);

test("a client that leaves mid-stream counts no error against the instance", async () => {
  const before = counts();
  await leaveMidStream(rig.anthropic(), "long");
  await waitFor(() => rig.gw.stats().openStreams === 0, 5000, "the stream to be closed");
  expect(counts()).toEqual({ requests: before.requests + 1, errors: before.errors });
}, 30_000);
