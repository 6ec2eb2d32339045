// A thinking-signature cooldown's life as a real gw shows it: while it runs it keeps signed
// requests out and counts as cooling (/metrics, the status page's total, `gw status`); once over,
// the target is half-open — it keeps nothing out, the next signed request is its trial — and
// counts no more, or an alert on gw_cooldowns_active{kind="signature"} would fire until a signed
// request came; `gw status` says what it is, not that it keeps signed requests out.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { signatureFor } from "../../../src/mock/signatures.ts";
import type { StatusJson } from "../../../src/observe/status-api.ts";
import { InstanceSet } from "../../../src/supervisor/instances.ts";
import { buildStatus } from "../../../src/supervisor/status.ts";
import { DEFAULT_TIMING } from "../../../src/supervisor/timing.ts";
import { parseExposition } from "../../helpers/observe.ts";
import { claude, type Rig, rejection, startRig, waitFor } from "../../helpers/resilience.ts";

const TARGET = "b/claude-home~sig=foreign";
const GAUGE = `gw_cooldowns_active{route="claude-home",target="${TARGET}",kind="signature"}`;

/** Messages with a crafted signed thinking block. */
const signedWith = (signature: string) => [
  { role: "user" as const, content: "q" },
  { role: "assistant" as const, content: [{ type: "thinking" as const, thinking: "…", signature }, { type: "text" as const, text: "a" }] },
  { role: "user" as const, content: "q2" },
];

let rig: Rig;
beforeAll(() => {
  rig = startRig({
    mocks: ["b"],
    global: "lb_signature_cooldown_ms = 300",
    routing: `"claude-home" = [{ instance = "b", provider = "anthropic", model = "claude-home~sig=foreign" }]`,
  });
  // What `gw up` hands the page and /metrics (supervisor/live.ts): the gateway's cooldowns.
  rig.gw.observe.setLive(() => ({ instances: [], cooling: rig.gw.coolingList(Date.now()) }));
});
afterAll(() => rig.stop());

/** What `gw status` says of b's cooling and half-open targets, built by the supervisor from this running gw. */
function gwStatus(): { cooling: readonly string[]; halfOpen: readonly string[] | undefined } {
  const config = rig.gw.config();
  const noop = () => {};
  const set = new InstanceSet(config, { timing: DEFAULT_TIMING, env: {}, log: { info: noop, warn: noop, error: noop }, logFile: () => "/dev/null", childrenChanged: noop });
  const b = buildStatus({ config, set, gateway: rig.gw, phase: "serving", startedAt: 0, demo: false }).instances.find((i) => i.name === "b")!;
  return { cooling: b.cooling, halfOpen: b.halfOpen };
}

async function scrape(): Promise<{ gauge: number | undefined; cooling: number; halfOpen: boolean | undefined; status: ReturnType<typeof gwStatus> }> {
  const { samples } = parseExposition(await (await fetch(`${rig.gw.url}/metrics`)).text());
  const d = (await (await fetch(`${rig.gw.url}/_gw/api/status`)).json()) as StatusJson;
  const t = d.routes.find((r) => r.name === "claude-home")?.targets.find((x) => x.id === TARGET);
  return { gauge: samples.get(GAUGE), cooling: d.totals.cooling, halfOpen: t?.cooling?.halfOpen, status: gwStatus() };
}

test("a signature cooldown counts as cooling while it runs, and no more once half-open (it keeps nothing out)", async () => {
  // b rejects a signature it did not make (c's): its target cools for signed requests.
  await rejection(claude(rig.anthropic(), "claude-home", { params: { messages: signedWith(signatureFor("c", "claude-home")) } }));
  const running = rig.gw.coolingList(Date.now());
  expect(running.map((c) => [c.target, c.kind])).toEqual([[TARGET, "signature"]]);
  const during = await scrape();
  // Still running unless the scrape came after its end: then it is the half-open case below.
  if (Date.now() < running[0]!.until && !during.halfOpen) {
    expect(during).toMatchObject({ gauge: 1, cooling: 1, halfOpen: false });
    expect(during.status).toEqual({ cooling: [expect.stringMatching(/^claude-home → claude-home~sig=foreign \(signature, 1 s left: keeps out signed requests only\)$/)], halfOpen: [] });
  }

  await waitFor(() => rig.gw.coolingList(Date.now())[0]?.halfOpen === true, 10_000, "the cooldown to end");
  expect(await scrape()).toEqual({
    gauge: undefined,
    cooling: 0,
    halfOpen: true,
    // `gw status` counts it no more either: its cooling column agrees with the gauge and the page.
    status: { cooling: [], halfOpen: ["claude-home → claude-home~sig=foreign (signature: the next signed request is its trial)"] },
  });
}, 30_000);
