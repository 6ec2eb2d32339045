// The real Claude Code (npm @anthropic-ai/claude-code) keeps its answers whole while gw restarts
// the instance it talks to: a prompt sent while `gw restart NAME` drains that instance waits for
// the restart instead of starting on an instance about to be stopped. Real gw, `gw mock`
// instances, Claude Code's print mode with its stream-json output; everything waits for events.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { controlJson } from "../../src/supervisor/control.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";
import type { StatusReport } from "../../src/supervisor/status.ts";
import { installClaudeCode, type MockGateway, startMockGateway } from "../helpers/claude-code.ts";
import { CldSandbox, removeSandboxes } from "../helpers/cld.ts";
import { followStream, startGw, until } from "../helpers/supervisor.ts";

setDefaultTimeout(240_000); // Claude Code starts in seconds; a shared 2-core machine may be busy
const KEY = "sk-gw-client-key-0123456789";
/**
 * shutdown_grace_ms: longer than Claude Code takes to start and send its prompt (a whole print-mode
 * turn takes 2-3.5 s in the suite beside two CPU hogs), shorter than its answer.
 */
const GRACE_MS = 12_000;
/** Claude Code's answer: 42 events 300 ms apart (12.6 s), so it outlasts the grace period. */
const LONG_ANSWER = "interval=300~events=42";
let g: MockGateway;
const box = new CldSandbox({ noClaude: true });
const PATH = `${box.bin}:/usr/bin:/bin`;

beforeAll(async () => {
  g = await startMockGateway(KEY, { graceMs: GRACE_MS });
  installClaudeCode(box.bin);
});
afterAll(async () => {
  await g?.stop();
  removeSandboxes();
});

const status = () => controlJson<StatusReport>(gwPaths(g.sb.dir), "/status");

/** What Claude Code's stream-json output says about its turn: the result, and whether it had to recover a cut answer. */
function turnOf(stdout: string) {
  const lines = stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { type: string; is_error?: boolean; num_turns?: number; result?: string; message?: { content?: unknown } });
  const result = lines.find((l) => l.type === "result");
  // Claude Code 2.1.33x answers a cut stream by asking the model to resume: a user message of its own.
  const recovered = lines.filter((l) => l.type === "user" && JSON.stringify(l.message?.content).includes("cut off"));
  return { result, recovered: recovered.length };
}

describe("Claude Code while gw restarts its instance", () => {
  test("a prompt sent during the drain of gw restart waits for the restart and gets its whole answer (it was cut at the grace period's end)", async () => {
    // A stream already running on instance a keeps the drain going until the test ends it.
    const stop = new AbortController();
    const running = followStream(
      await fetch(`${g.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json", "x-mock-fault": "interval=200~events=100000" },
        body: JSON.stringify({ model: "opus4.6", stream: true, messages: [{ role: "user", content: "hi" }] }),
        signal: stop.signal,
      }),
    );
    running.done.catch(() => {}); // ended by the test
    await until(() => running.chunks > 0, 20_000, () => "the running stream under way");
    const before = g.mark();
    const restart = startGw(g.sb, ["restart", "a", "-c", g.file]);
    await restart.waitFor("a: waiting for 1 request(s) in flight to finish", 20_000);

    // The user's prompt, sent while a drains; route opus4.6 lives on a alone.
    const claude = box.run(["cp", "-c", g.file, "opus", "-p", "say hi", "--output-format", "stream-json", "--verbose"], {
      env: { PATH, ANTHROPIC_CUSTOM_HEADERS: `x-mock-fault: ${LONG_ANSWER}` },
    });
    // Its request is in gw (beside the running stream); then the running stream ends, as streams do.
    await until(async () => ((await status()).lb?.inFlight ?? 0) >= 2, GRACE_MS, () => "Claude Code's request in gw during the drain");
    stop.abort();

    const r = await claude;
    expect(r.code).toBe(0);
    const turn = turnOf(r.stdout);
    expect(turn.result).toMatchObject({ is_error: false, num_turns: 1 });
    expect(turn.result?.result).toStartWith("Mock answer from instance a, model claude-opus-4-6-thinking.");
    expect(turn.recovered).toBe(0);
    expect(await restart.proc.exited).toBe(0);
    expect(restart.output()).toContain("a: restarted after 1 request(s) in flight finished");
    expect(restart.output()).not.toContain("cut");

    // gw's record of it: whole, after a wait for the restarted a.
    const [mine] = await g.waitForRequests({ since: before, pick: (x) => x.agent?.startsWith("claude-cli") === true && x.request.path.startsWith("/v1/messages") });
    const records = (await g.waitForRequests({ since: before })).filter((x) => x.agent?.startsWith("claude-cli"));
    expect(records.filter((x) => x.response.broken)).toEqual([]);
    expect(records).toHaveLength(1);
    expect(mine!.response.status).toBe(200);
    expect(mine!.routing.attempts).toHaveLength(1);
    expect(mine!.routing.attempts[0]!.held_ms).toBeGreaterThan(0);
  });
});
