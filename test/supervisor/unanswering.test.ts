// A managed instance that runs but does not answer (stopped with SIGSTOP here, as a hung one) is
// restarted once its probes have failed for unansweredRestartMs: before, its targets stayed out
// for the rest of the run and a route with no other instance failed every request.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import Anthropic from "@anthropic-ai/sdk";
import { controlJson } from "../../src/supervisor/control.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";
import type { StatusReport } from "../../src/supervisor/status.ts";
import { DEFAULT_TIMING } from "../../src/supervisor/timing.ts";
import { dueForRestart } from "../../src/supervisor/unanswering.ts";
import { alive, inProcessServe, sandbox, until } from "../helpers/supervisor.ts";

describe("dueForRestart", () => {
  test("due once unanswering for afterMs while running; answering again or not running starts over", () => {
    const since = new Map<string, number>();
    let running = new Set(["a", "b"]);
    const due = (down: string[], now: number) => dueForRestart(down, (n) => running.has(n), since, now, 1_000);
    expect(due(["a", "b", "ext"], 0)).toEqual([]); // first seen; ext is not one gw runs
    expect(due(["a", "b"], 999)).toEqual([]);
    expect(due(["b"], 1_000)).toEqual(["b"]); // a answered: its spell is over
    expect(due(["a", "b"], 1_500)).toEqual([]); // both seen afresh: b's restart begins a new spell
    running = new Set(["b"]); // a restarting meanwhile (not ready): not counted
    expect(due(["a", "b"], 2_000)).toEqual([]);
    running = new Set(["a", "b"]);
    expect(due(["a", "b"], 2_499)).toEqual([]);
    expect(due(["a", "b"], 2_500)).toEqual(["b"]);
    expect(due(["a"], 3_499)).toEqual(["a"]); // first seen at 2,499, when it was ready again
  });
});

const serveInProcess = inProcessServe();

test("an instance stopped with SIGSTOP: one request times out, its probes fail, it is restarted and answers again; said in gw.log", async () => {
  const sb = await sandbox([{ name: "a" }], "lb_first_byte_timeout_ms = 1000\nlb_transient_cooldown_ms = 500");
  await serveInProcess(sb, { ...DEFAULT_TIMING, unansweredRestartMs: 1_500, killWaitMs: 3_000 });
  const paths = gwPaths(sb.dir);
  const status = () => controlJson<StatusReport>(paths, "/status");
  await until(async () => (await status().catch(() => undefined))?.instances[0]?.state === "ready", 20_000, () => "a to be ready");
  const { pid } = (await status()).instances[0]!;
  const client = new Anthropic({ baseURL: `http://127.0.0.1:${sb.mainPort}`, apiKey: "unused", maxRetries: 0 });
  const ask = () => client.messages.create({ model: "m", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
  expect((await ask()).content.length).toBeGreaterThan(0);

  process.kill(pid!, "SIGSTOP");
  const timedOut = await ask().catch((e: unknown) => e);
  expect(timedOut).toBeInstanceOf(Anthropic.APIError); // the first-byte timeout: the one request a hung instance costs
  expect((timedOut as InstanceType<typeof Anthropic.APIError>).status).toBe(504);
  const said = /WARN  a: running but not answering its probes for 2 s \(hung or stopped\): restarting it/;
  await until(() => said.test(readFileSync(paths.gwLog, "utf8")), 30_000, () => `the restart in gw.log:\n${readFileSync(paths.gwLog, "utf8")}`);
  await until(async () => {
    const a = (await status()).instances[0]!;
    return a.state === "ready" && a.pid !== pid;
  }, 30_000, () => "a to be ready again in a new process");
  expect(await alive(pid!)).toBe(false);
  expect((await status()).instances[0]!.restarts).toBe(1);
  // Continued after the SIGTERM: it shut itself down, not killed once killWaitMs ran out.
  expect((await status()).instances[0]!.lastExit).toMatchObject({ code: 0, signal: null });
  await until(async () => (await ask().then(() => true, () => false)), 20_000, () => "a request to be answered again");
  expect(readFileSync(paths.gwLog, "utf8").match(said)).toHaveLength(1);
}, 90_000);
