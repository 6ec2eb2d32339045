// The state calls one request makes, in-process and in the pipeline's order — read the failure
// streak (upgrade), pick (sticky + cooldowns), record the attempt (clear the cooldown, remember
// the sticky target), record the end (reset the streak) — against each backend, with the
// backend's batching and flushing included. CPU per request without HTTP's noise around it.
// Used by bench/state.ts.

import { classifyOutcome } from "../src/lb/classify.ts";
import { explainPick } from "../src/lb/route.ts";
import { recordAttempt, recordRequestEnd, type StateBackend } from "../src/state/index.ts";
import type { Route } from "../src/config/types.ts";

const COOLDOWNS = { auth: 300_000, validation: 43_200_000, quota: 43_200_000, transient: 60_000, transientHeavy: 120_000, signature: 120_000 };
const ROUTE: Route = {
  name: "claude-bench",
  targets: ["a", "b"].map((i) => ({ route: "claude-bench", id: `${i}/claude`, instance: i, provider: "anthropic", model: "claude", weight: 1, priority: 0, params: { anthropicBeta: [], extraHeaders: {} } })),
};
const OK = classifyOutcome({ status: 200 }, COOLDOWNS);

/** µs of CPU per request over `seconds`, yielding to the event loop every 64 requests (timers, I/O). */
export async function statePathCost(state: StateBackend, sessions: "one" | "new", seconds: number): Promise<number> {
  const tag = crypto.randomUUID().slice(0, 8);
  const cpu0 = process.cpuUsage();
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 64; i++, n++) oneRequest(state, sessions === "one" ? `cc:${tag}` : `cc:${tag}-${n}`);
    await new Promise((r) => setImmediate(r));
  }
  await state.close(); // the last batch is part of the cost
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / n;
}

export function oneRequest(state: StateBackend, session: string): void {
  const now = Date.now();
  const streakKey = `${session}::${ROUTE.name}`;
  const stickyKey = `${session}::${ROUTE.name}`;
  state.streak(streakKey, now);
  const pick = explainPick(ROUTE, { tried: new Set(), now, state, sessionKey: stickyKey })!;
  recordAttempt(state, OK, { route: ROUTE.name, target: pick.target.id, stickyKey, now });
  recordRequestEnd(state, streakKey, true, now);
}
