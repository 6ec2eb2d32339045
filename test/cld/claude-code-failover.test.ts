// The real Claude Code (npm @anthropic-ai/claude-code) in a tool loop whose instance dies between
// the tool call and its result. Route "loop": instance a on the higher tier, b below it, both
// answering with signed thinking and a call to Bash (`~think~tool=Bash`). Claude Code runs the
// call's schema-filled command, `gw-mock`, which this file puts first on its PATH: it SIGKILLs a
// (its pid from `gw status --json`) and returns once a is gone. Claude Code then sends the result
// with a's signed thinking to a dead sticky target, and must not see an error. Real gw, `gw mock`
// instances, a throwaway HOME, nothing beyond loopback; everything waits for events.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RequestRecord } from "../../src/observe/record.ts";
import { controlJson } from "../../src/supervisor/control.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";
import type { InstanceRow, StatusReport } from "../../src/supervisor/status.ts";
import { installClaudeCode, type MockGateway, startMockGateway } from "../helpers/claude-code.ts";
import { CldSandbox, removeSandboxes } from "../helpers/cld.ts";
import { until } from "../helpers/supervisor.ts";

setDefaultTimeout(240_000); // Claude Code starts in seconds; a shared 2-core machine may be busy
const KEY = "sk-gw-client-key-0123456789";
const MODEL = "claude-opus-4-6-thinking~think~tool=Bash";
const KILLER = join(import.meta.dir, "../helpers/kill-instance.ts");
let g: MockGateway;
const box = new CldSandbox({ noClaude: true });
const PATH = `${box.bin}:/usr/bin:/bin`;

beforeAll(async () => {
  const loop = `"loop" = [{ instance = "a", provider = "antigravity", model = "${MODEL}", priority = 1 }, { instance = "b", provider = "antigravity", model = "${MODEL}" }]\n`;
  g = await startMockGateway(KEY, { routes: loop });
  installClaudeCode(box.bin);
});
afterAll(async () => {
  await g?.stop();
  removeSandboxes();
});

const instance = async (name: string): Promise<InstanceRow> => (await controlJson<StatusReport>(gwPaths(g.sb.dir), "/status")).instances.find((i) => i.name === name)!;

/** The tool's command: `before` (shell lines), then kill instance a and wait until it is gone. */
function writeTool(before = ""): void {
  writeFileSync(join(box.bin, "gw-mock"), `#!/bin/sh\n${before}exec '${process.execPath}' '${KILLER}' '${g.file}' a\n`, { mode: 0o755 });
}

type Block = { type: string; content?: unknown; is_error?: boolean };
type Line = { type: string; is_error?: boolean; num_turns?: number; result?: string; message?: { content?: Block[] | string } };

/** Claude Code's print-mode session on route loop: its stream-json lines, its result, and what its Bash call returned. */
async function session() {
  const before = g.mark();
  const args = ["cp", "-c", g.file, "loop", "-p", "run it", "--tools", "Bash", "--allowedTools", "Bash", "--output-format", "stream-json", "--verbose"];
  const r = await box.run(args, { env: { PATH } });
  const lines = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Line);
  const toolResults = lines.flatMap((l) => (l.type === "user" && Array.isArray(l.message?.content) ? l.message.content.filter((b) => b.type === "tool_result") : []));
  const records = (await g.waitForRequests({ since: before, count: 2, pick: onLoop })).filter(onLoop);
  return { r, lines, result: lines.find((l) => l.type === "result"), toolResults, records };
}
const onLoop = (x: RequestRecord) => x.routing.route === "loop";
const attempts = (x: RequestRecord) => x.routing.attempts.map((a) => [a.instance, a.status, a.class, a.pick]);

describe("instance a dies while Claude Code runs the tool it asked for", () => {
  test("a comes back: gw holds the result (signed by a) for a's respawn, and a answers; Claude Code sees no error", async () => {
    writeTool();
    const pidBefore = (await instance("a")).pid;
    const { r, lines, result, toolResults, records } = await session();
    expect([r.code, r.stderr.match(/error|retry/i)?.[0]]).toEqual([0, undefined]);
    expect(lines.filter((l) => l.type === "system" && JSON.stringify(l).includes("retry"))).toEqual([]); // no api_retry notice
    expect(toolResults.map((b) => [b.is_error ?? false, JSON.stringify(b.content)])).toEqual([[false, expect.stringContaining("killed instance a (pid ")]]);
    expect(result).toMatchObject({ is_error: false, num_turns: 2, result: "Mock answer from instance a, model claude-opus-4-6-thinking. ok ok ok ok ok" });
    // Two requests: the call from a (sticky set), then the result, locked to a by its signature and
    // held until the respawned a answered — no failed attempt, no failover.
    expect(records.map((x) => [x.response.status, x.request.signed, x.routing.sticky, attempts(x)])).toEqual([
      [200, false, "set", [["a", 200, "ok", "weighted"]]],
      [200, true, "lock", [["a", 200, "ok", "signature-lock"]]],
    ]);
    expect(records[1]!.routing.attempts[0]!.held_ms).toBeGreaterThan(0);
    const a = await instance("a");
    expect([a.state, a.pid === pidBefore, a.restarts >= 1, a.lastExit?.signal]).toEqual(["ready", false, true, "SIGKILL"]);
  });

  test("a does not come back (its respawn crashes): the result fails over to b after the failed attempt on a; Claude Code sees no error", async () => {
    // The tool breaks a's command before the kill: every respawn of a exits at once.
    writeTool(`printf '#!/bin/sh\\nexit 3\\n' > '${join(g.sb.dir, "cliproxy.sh")}'\n`);
    const { r, lines, result, toolResults, records } = await session();
    expect([r.code, r.stderr.match(/error|retry/i)?.[0]]).toEqual([0, undefined]);
    expect(lines.filter((l) => l.type === "system" && JSON.stringify(l).includes("retry"))).toEqual([]);
    expect(toolResults.map((b) => [b.is_error ?? false, JSON.stringify(b.content)])).toEqual([[false, expect.stringContaining("killed instance a (pid ")]]);
    expect(result).toMatchObject({ is_error: false, num_turns: 2, result: "Mock answer from instance b, model claude-opus-4-6-thinking. ok ok ok ok ok" });
    // Two requests: the result waited for a's respawn, met a closed port when that respawn died,
    // and went to b (the heaviest available target for signed thinking), which the session sticks to now.
    expect(records.map((x) => [x.response.status, x.request.signed, x.routing.sticky, attempts(x)])).toEqual([
      [200, false, "set", [["a", 200, "ok", "weighted"]]],
      [200, true, "set", [["a", 0, "transient", "signature-lock"], ["b", 200, "ok", "signature-weight"]]],
    ]);
    expect(records[1]!.routing.attempts[0]!.error).toContain("ECONNREFUSED");
    const a = await instance("a");
    expect([a.restarts >= 2, a.lastExit?.code]).toEqual([true, 3]); // the supervisor respawned it; the broken command exited
  });
});
