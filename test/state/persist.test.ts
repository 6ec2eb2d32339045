// State that outlives gw (`state = "local"`, the default): real `gw up` processes over `gw mock`
// instances. A session stuck to a target the weights would rarely pick stays there across
// `gw restart`, `gw down` + `gw up`, a SIGKILL of gw and `gw upgrade`; a target cooling from a
// 429 is still skipped after a restart, for the remaining time only; a failure streak that is
// about to upgrade a session still upgrades it after a restart.
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gw, killAll, type RunningGw, type Sandbox, sandbox, startGw, until } from "../helpers/supervisor.ts";

const cleanups: Array<[Sandbox, () => RunningGw | undefined]> = [];
afterAll(async () => {
  for (const [sb, g] of cleanups) await killAll(sb, g());
});

// "rare": a gets 95 of 100 picks. "cooling": a first (priority), and a always answers 429 (a
// cooldown of lb_transient_heavy_cooldown_ms, 15 s here: the restarts below take ~6 s beside two
// CPU hogs, and the test checks that it still runs after the last of them). "cheap.auto" always
// fails; two failures of a session upgrade it to "strong".
const ROUTES = `
"rare" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash", weight = 95 }, { instance = "b", provider = "antigravity", model = "gemini-3-flash", weight = 5 }]
"cooling" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash~429", priority = 1 }, { instance = "b", provider = "antigravity", model = "gemini-3-flash" }]
"cheap.auto" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash~500" }]
"strong" = [{ instance = "b", provider = "antigravity", model = "gemini-3-pro" }]
`;
const GLOBAL = `lb_transient_heavy_cooldown_ms = 15000
lb_auto_upgrade_enabled = true
lb_auto_upgrade_failure_streak_threshold = 2
lb_auto_upgrade_map = { "cheap.auto" = "strong" }`;
const COOLDOWN_MS = 15_000;

interface Answer {
  status: number;
  target: string;
  route: string;
  attempts: number;
}

async function ask(sb: Sandbox, model: string, session?: string): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${sb.mainPort}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(session ? { "x-claude-code-session-id": session } : {}) },
    body: JSON.stringify({ model, max_tokens: 16, messages: [{ role: "user", content: "hi" }] }),
  });
  await res.arrayBuffer();
  const h = res.headers;
  return { status: res.status, target: h.get("x-gw-target") ?? "", route: h.get("x-gw-route") ?? "", attempts: Number(h.get("x-gw-attempts")) };
}

/** A new session whose first answer came from b, the target "rare" picks 1 time in 20. */
async function sessionOnB(sb: Sandbox): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const sid = crypto.randomUUID();
    if ((await ask(sb, "rare", sid)).target === "b/gemini-3-flash") return sid;
  }
  throw new Error("no session landed on b in 400 tries");
}

/** Every answer of the session comes from b (a would get 95 % of fresh picks). */
async function expectOnB(sb: Sandbox, sid: string, n = 8): Promise<void> {
  for (let i = 0; i < n; i++) expect(await ask(sb, "rare", sid)).toMatchObject({ status: 200, target: "b/gemini-3-flash" });
}

/** Rows of the state file as another reader sees them (WAL: committed rows are visible at once). */
function fileRows(sb: Sandbox, sql: string, ...args: string[]): unknown[] {
  const file = join(sb.dir, ".gw", "state.db");
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true });
  try {
    return db.query(sql).all(...args);
  } finally {
    db.close();
  }
}

async function cooldownOfA(sb: Sandbox): Promise<{ until: number; halfOpen: boolean } | null> {
  const status = (await (await fetch(`http://127.0.0.1:${sb.mainPort}/_gw/api/status`)).json()) as {
    routes: { name: string; targets: { id: string; cooling: { until: number; halfOpen: boolean } | null }[] }[];
    state: { backend: string; up: boolean };
  };
  return status.routes.find((r) => r.name === "cooling")!.targets.find((t) => t.id === "a/gemini-3-flash~429")!.cooling;
}

describe("gw up with the default state file", () => {
  let sb: Sandbox;
  let g: RunningGw | undefined;
  const up = async () => {
    g = startGw(sb, ["up", "-c", sb.file]);
    await g.waitFor("serving on", 90_000);
  };
  const down = async () => {
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
    await g!.proc.exited;
  };

  test("sticky sessions, a running cooldown and failure streaks survive restart, down + up, SIGKILL and upgrade", async () => {
    sb = await sandbox([{ name: "a" }, { name: "b" }], GLOBAL);
    sb.env.GW_STATE = undefined;
    appendFileSync(sb.file, ROUTES);
    cleanups.push([sb, () => g]);
    await up();

    // A session on the rarely picked target, a cooldown that outlives the restarts, and a session
    // with two failures (the next request of it upgrades).
    const sid = await sessionOnB(sb);
    const cooled = await ask(sb, "cooling");
    expect(cooled).toMatchObject({ status: 200, attempts: 2, target: "b/gemini-3-flash" });
    const first = await cooldownOfA(sb);
    expect(first).toMatchObject({ halfOpen: false });
    const failing = crypto.randomUUID();
    // The upstream's 500, then — its only target now cooling, tried anyway — gw's own "every target
    // is out" 503 (own-error.ts); both count in the session's failure streak.
    expect(await ask(sb, "cheap.auto", failing)).toMatchObject({ status: 500, route: "cheap.auto" });
    expect(await ask(sb, "cheap.auto", failing)).toMatchObject({ status: 503, route: "cheap.auto", attempts: 1 });

    // gw restart: the instances restart one by one, gw keeps its state.
    expect((await gw(sb, ["restart", "-c", sb.file])).code).toBe(0);
    await expectOnB(sb, sid);

    // gw down + gw up: everything comes back from .gw/state.db.
    await down();
    await up();
    await expectOnB(sb, sid);
    expect(await cooldownOfA(sb)).toEqual(first); // the same end time, not a fresh 15 s
    expect(await ask(sb, "cooling")).toMatchObject({ status: 200, attempts: 1, target: "b/gemini-3-flash" });
    expect(await ask(sb, "cheap.auto", failing)).toMatchObject({ status: 200, route: "cheap.auto->strong (streak 2>=2)", target: "b/gemini-3-pro" });

    // SIGKILL: what reached the file before the kill is back; a new session is in the file within
    // the flush interval (250 ms), so wait for its row rather than guess.
    const killedSid = await sessionOnB(sb);
    await until(() => fileRows(sb, "SELECT target FROM sticky WHERE key = ?", `cc:${killedSid}::rare`).length === 1, 5_000, () => "the new session's row");
    process.kill(g!.proc.pid, "SIGKILL");
    await g!.proc.exited;
    await up();
    await expectOnB(sb, sid);
    await expectOnB(sb, killedSid);

    // gw upgrade (to the same binary here): the new gw takes over the running one's state too.
    const upgraded = await gw(sb, ["upgrade", "--json", "-c", sb.file]);
    expect(JSON.parse(upgraded.stdout)).toMatchObject({ ok: true });
    await g!.proc.exited; // the old gw handed over and exited
    await expectOnB(sb, sid);
    await expectOnB(sb, killedSid);

    // The cooldown ran on through all of it and ends when it was due: a is tried again then, not
    // 15 s after the last start.
    expect(await cooldownOfA(sb)).toEqual(first);
    const { until: due } = first!;
    expect(due - Date.now()).toBeLessThan(COOLDOWN_MS);
    let retried: number | undefined;
    while (retried === undefined) {
      const at = Date.now();
      const r = await ask(sb, "cooling");
      if (r.attempts === 2) retried = at;
      else expect(Date.now()).toBeLessThan(due + 3000);
      if (retried === undefined) await Bun.sleep(100);
    }
    expect(retried).toBeGreaterThanOrEqual(due - 150);
    await down();
    expect(readdirSync(join(sb.dir, ".gw")).filter((n) => n.includes("broken"))).toEqual([]);
  }, 240_000);
});
