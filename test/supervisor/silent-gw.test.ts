// A control command meeting a gw that has not begun its answer after CONTROL_ANSWER_MS tells a busy
// gw (its event loop blocked by work) from one that is stopped or wedged: it waits for the busy one,
// saying so once, and gives the others their one line (test/supervisor/stopped-gw.test.ts: stopped;
// test/supervisor/control-silence.test.ts: the watcher's verdicts with short limits). gw up -d's
// poll does not wait.
import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type GwProcess, waitServing } from "../../src/supervisor/daemon.ts";
import { refuseIfRunning } from "../../src/supervisor/guard.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";
import { CONTROL_ANSWER_MS } from "../../src/supervisor/timing.ts";
import { killAll, MAIN, type Sandbox, sandbox } from "../helpers/supervisor.ts";

const SILENT_GW = join(import.meta.dir, "../helpers/silent-gw.ts");
let sb: Sandbox | undefined;
afterEach(async () => {
  if (sb) await killAll(sb);
  sb = undefined;
});

/** The stand-in gw on the sandbox's control socket, once it listens. */
async function silentGw(s: Sandbox, ...args: string[]) {
  const proc = Bun.spawn([process.execPath, SILENT_GW, ...args], { cwd: s.dir, env: s.env, stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  const first = await reader.read();
  expect(new TextDecoder().decode(first.value)).toBe("listening\n");
  return proc;
}

/** `gw logs` beside it, its stderr read as it comes: `onLine` sees each line. */
function gwLogs(s: Sandbox, onLine: (line: string) => void) {
  const proc = Bun.spawn([process.execPath, MAIN, "logs", "-c", s.file], { cwd: s.dir, env: s.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const stderr = (async () => {
    let all = "";
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) {
      const before = all.split("\n").length - 1;
      all += decoder.decode(chunk, { stream: true });
      for (const line of all.split("\n").slice(before, -1)) onLine(line);
    }
    return all;
  })();
  return { stdout: new Response(proc.stdout).text(), stderr, code: proc.exited };
}

test("a busy gw is waited for, said once; it answers and the command succeeds", async () => {
  sb = await sandbox();
  const release = join(sb.dir, "release");
  const fake = await silentGw(sb, "busy", sb.dir, release);
  const busyLine = `gw (pid ${fake.pid}) is busy and has not answered yet; waiting for it (up to 60 s)…`;
  // Released only once the command has said it waits: the wait is what is tested, not a guessed time.
  const run = gwLogs(sb, (line) => {
    if (line === busyLine) writeFileSync(release, "");
  });
  expect(await run.stderr).toBe(`${busyLine}\n`);
  expect(await run.stdout).toBe("gw | answered after being busy\n");
  expect(await run.code).toBe(0);
}, 60_000);

test("a gw that neither runs nor is stopped gets one line and the way out", async () => {
  sb = await sandbox();
  const fake = await silentGw(sb, "wedged", sb.dir);
  const run = gwLogs(sb, () => {});
  expect(await run.stderr).toBe(`gw: gw (pid ${fake.pid}) does not answer on its control socket, though it is neither stopped nor busy\n  to stop it anyway: kill -KILL ${fake.pid}, then gw down stops the instances it left\n`);
  expect(await run.code).toBe(1);
}, 60_000);

test("gw up -d's poll of the daemon it started does not wait on a busy one (nor say it waits between the progress lines): each poll is given up at the mark, and its deadline holds", async () => {
  sb = await sandbox();
  const fake = await silentGw(sb, "busy", sb.dir, join(sb.dir, "never"));
  const began = performance.now();
  const out = await waitServing(gwPaths(sb.dir), { proc: fake as unknown as GwProcess["proc"], logOffset: 0 }, () => {}, 1_000);
  expect(out).toEqual({ ok: false, pid: fake.pid, timedOut: true });
  // one poll given up on at the mark, not a wait of BUSY_ANSWER_MS
  expect(performance.now() - began).toBeLessThan(2 * CONTROL_ANSWER_MS);
}, 30_000);

test("gw up beside a busy gw is refused at the 5 s mark, not after waiting up to 60 s for it to name its URL", async () => {
  sb = await sandbox();
  const fake = await silentGw(sb, "busy", sb.dir, join(sb.dir, "never"));
  const began = performance.now();
  const err = await refuseIfRunning(gwPaths(sb.dir), sb.env).catch((e: unknown) => e);
  expect((err as Error).message).toBe(`gw is already running for ${sb.dir} (pid ${fake.pid})`);
  expect(performance.now() - began).toBeLessThan(2 * CONTROL_ANSWER_MS);
}, 30_000);
