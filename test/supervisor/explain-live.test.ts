// `gw route explain` against a running gw: it answers from that gw's live state (a target cooling
// after a 429, the session's sticky target) and says whose state it used; the gw's state is the
// same afterwards; with the gw stopped it says it decided on fresh state. Real `gw up`, real
// `gw mock` instances, the real command.
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { controlJson } from "../../src/supervisor/control.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";
import type { StatusReport } from "../../src/supervisor/status.ts";
import { gw, killAll, type Sandbox, sandbox, until } from "../helpers/supervisor.ts";

const SESSION = "3f1c2a7e-0000-4000-8000-000000000001";
/** The mock's 429 ("all credentials cooling down") is a heavy transient failure for gw; its 900 s reset (Retry-After) is beyond the cap. */
const COOLDOWN_MS = 600_000;
let sb: Sandbox;
afterAll(async () => {
  if (sb) await killAll(sb);
});

/** One Anthropic request through gw, in Claude Code's session. */
function send(session?: string) {
  return fetch(`http://127.0.0.1:${sb.mainPort}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "unused", ...(session ? { "x-claude-code-session-id": session } : {}) },
    body: JSON.stringify({ model: "m", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }),
  });
}

/** Every row of the state file, as the running gw wrote it (read-only: the test must not write it either). */
function stateRows(): Record<string, unknown[]> {
  const db = new Database(join(sb.dir, ".gw", "state.db"), { readonly: true });
  try {
    return Object.fromEntries(["cooldown", "sticky", "streak"].map((t) => [t, db.query(`SELECT * FROM ${t} ORDER BY 1, 2`).all()]));
  } finally {
    db.close();
  }
}

describe("gw route explain reads the running gw's state", () => {
  test("a cooling target is skipped with its remaining cooldown, the session's sticky target is chosen, nothing changes; stopped: fresh state", async () => {
    sb = await sandbox([{ name: "a" }, { name: "b" }], `lb_transient_heavy_cooldown_ms = ${COOLDOWN_MS}`);
    // Route m: a first (priority 1), which answers every request with a 429; b behind it.
    const toml = readFileSync(sb.file, "utf8").replace(
      /^"m" = .*$/m,
      `"m" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash~429=900", priority = 1 }, { instance = "b", provider = "antigravity", model = "gemini-3-flash" }]`,
    );
    writeFileSync(sb.file, toml);
    const bodyFile = join(sb.dir, "body.json");
    writeFileSync(bodyFile, JSON.stringify({ model: "m", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }));
    const explain = (...args: string[]) => gw(sb, ["route", "explain", "-c", sb.file, bodyFile, ...args]);

    // Before any gw runs: fresh state, and the first-priority target is the one named.
    const before = await explain();
    expect(before.code).toBe(0);
    expect(before.stdout).toContain("state     no gw running for this config: fresh state (no cooldowns, sticky sessions or streaks)");
    expect(before.stdout).toContain("target    a/gemini-3-flash~429=900 (weighted pick");

    expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
    const pid = (await controlJson<StatusReport>(gwPaths(sb.dir), "/status")).pid;
    // The session's request: a answers 429 (a cools down for COOLDOWN_MS), b serves it and
    // becomes the session's sticky target.
    const res = await send(SESSION);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-gw-target")).toBe("b/gemini-3-flash");
    await res.arrayBuffer();
    // The state file has caught up with the request (written behind, in batches).
    await until(() => existsSync(join(sb.dir, ".gw", "state.db")) && stateRows().sticky!.length === 1 && stateRows().cooldown!.length === 1, 10_000, () => "state written");
    const rows = stateRows();
    const cooling = (await controlJson<StatusReport>(gwPaths(sb.dir), "/status")).instances.find((i) => i.name === "a")!.cooling;
    expect(cooling).toHaveLength(1);

    const text = await explain("--session", SESSION);
    expect(text.code).toBe(0);
    const out = text.stdout;
    expect(out).toMatch(new RegExp(`^state {5}running gw pid ${pid}, state as of \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\(local .*state\\.db\\)$`, "m"));
    expect(out).toContain(`session   cc:${SESSION}`);
    expect(out).toContain("target    b/gemini-3-flash (sticky: the session's target)");
    expect(out).toMatch(/^ {2}a\/gemini-3-flash~429=900 +w1 p1 +cooling, 9m[0-5]\ds left \(transient_heavy: 429 .+\): skipped$/m);
    expect(out).toMatch(/^ {2}b\/gemini-3-flash +w1 +← chosen {2}the session's sticky target$/m);

    // --json: the same, in snake_case as every gw --json.
    const json = JSON.parse((await explain("--session", SESSION, "--json")).stdout);
    expect(json.state).toMatchObject({ running: true, pid, store: { backend: "local", up: true } });
    expect(json.session).toBe(`cc:${SESSION}`);
    expect(json.target).toMatchObject({ id: "b/gemini-3-flash", reason: "sticky" });
    const [a, b] = json.target.pool;
    expect(a.id).toBe("a/gemini-3-flash~429=900");
    expect(a.cooling.kind).toBe("transient_heavy");
    expect(a.cooling.left_ms).toBeGreaterThan(COOLDOWN_MS - 120_000);
    expect(a.cooling.left_ms).toBeLessThanOrEqual(COOLDOWN_MS);
    expect(b).toEqual({ id: "b/gemini-3-flash", weight: 1, priority: 0, sticky: true });

    // The session's id in the body (Claude Code's metadata.user_id) is read as the LB reads it.
    writeFileSync(bodyFile, JSON.stringify({ model: "m", max_tokens: 16, metadata: { user_id: JSON.stringify({ session_id: SESSION }) }, messages: [{ role: "user", content: "hi" }] }));
    expect((await explain()).stdout).toContain("target    b/gemini-3-flash (sticky: the session's target)");
    // Another session has no sticky target: a is still skipped, b is the only one available.
    const other = await explain("--session", "another-session");
    expect(other.stdout).toContain("target    b/gemini-3-flash (weighted pick");
    expect(other.stdout).not.toContain("sticky target");

    // Nothing the explanations read was changed by them: the gw's cooldowns, and — once it has
    // written everything it holds (gw down) — every row of its state.
    expect((await controlJson<StatusReport>(gwPaths(sb.dir), "/status")).instances.find((i) => i.name === "a")!.cooling.map((c) => c.replace(/\d+ s left/, ""))).toEqual(
      cooling.map((c) => c.replace(/\d+ s left/, "")),
    );
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
    expect(stateRows()).toEqual(rows);

    const after = await explain("--session", SESSION);
    expect(after.stdout).toContain("state     no gw running for this config: fresh state");
    expect(after.stdout).toContain("target    a/gemini-3-flash~429=900 (weighted pick");
  }, 90_000);
});
