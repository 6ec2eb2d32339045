// `gw up` in the foreground as a real child process: progress, graceful stop with a stream in
// flight, no orphans after SIGTERM or after SIGKILL of gw, and the one-line start errors.
import { afterAll, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { alive, gw, killAll, processesIn, type RunningGw, type Sandbox, sandbox, startGw, until } from "../helpers/supervisor.ts";

const cleanups: Array<[Sandbox, RunningGw?]> = [];
afterAll(async () => {
  for (const [sb, g] of cleanups) await killAll(sb, g);
});

const pidsOf = (out: string) => [...out.matchAll(/: started pid (\d+)/g)].map((m) => Number(m[1]));

async function up(sb: Sandbox): Promise<RunningGw> {
  const g = startGw(sb, ["up", "-c", sb.file]);
  cleanups.push([sb, g]);
  await g.waitFor("serving on");
  return g;
}

describe("gw up", () => {
  test("shows progress per instance, serves, and on SIGTERM finishes the stream in flight before stopping everything", async () => {
    const sb = await sandbox();
    const g = await up(sb);
    expect(g.output()).toMatch(/^a: started pid \d+ on port \d+$/m);
    expect(g.output()).toMatch(/^b: ready in \d+\.\d s$/m);
    expect(g.output()).toContain(`serving on http://127.0.0.1:${sb.mainPort} — 2/2 instances ready`);
    const pids = pidsOf(g.output());

    const client = new Anthropic({ baseURL: `http://127.0.0.1:${sb.mainPort}`, apiKey: "unused", maxRetries: 0 });
    const stream = client.messages.stream(
      { model: "m", max_tokens: 100, messages: [{ role: "user", content: "count slowly" }] },
      { headers: { "x-mock-fault": "interval=150~events=16" } },
    );
    let deltas = 0;
    let signalled = false;
    stream.on("text", () => {
      deltas++;
      if (!signalled) {
        signalled = true;
        process.kill(g.proc.pid, "SIGTERM");
      }
    });
    const message = await stream.finalMessage();
    expect(signalled).toBe(true);
    expect(deltas).toBe(16);
    expect(message.stop_reason).toBe("end_turn");
    // New connections are refused while the stream drains.
    await until(() => fetch(`http://127.0.0.1:${sb.mainPort}/healthz`).then(() => false, () => true), 5_000);

    expect(await g.proc.exited).toBe(0);
    expect(g.output()).toContain("letting 1 stream(s) in flight finish");
    expect(g.output()).toMatch(/stopped\n$/);
    for (const pid of pids) expect(await alive(pid)).toBe(false);
    expect(await processesIn(sb.dir)).toEqual([]);
  }, 60_000);

  test("no orphans after SIGKILL of gw: gw down, or the next gw up, stops what it left", async () => {
    const sb = await sandbox();
    const first = await up(sb);
    const firstPids = pidsOf(first.output());
    process.kill(first.proc.pid, "SIGKILL");
    await first.proc.exited;
    const left = (await Promise.all(firstPids.map(alive))).some(Boolean);
    const down = await gw(sb, ["down", "-c", sb.file]);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain(`gw is not running for ${sb.dir}`);
    if (left) expect(down.stdout).toContain("stopped instances a dead gw left running: a, b");
    for (const pid of firstPids) expect(await alive(pid)).toBe(false);

    const second = await up(sb);
    const secondPids = pidsOf(second.output());
    process.kill(second.proc.pid, "SIGKILL");
    await second.proc.exited;
    const third = await up(sb);
    if ((await Promise.all(secondPids.map(alive))).some(Boolean)) throw new Error("leftovers survived the next gw up");
    expect(third.output()).toContain("stopped instances a previous gw left running: a, b");
    process.kill(third.proc.pid, "SIGTERM");
    expect(await third.proc.exited).toBe(0);
    expect(await processesIn(sb.dir)).toEqual([]);
  }, 60_000);

  test("a busy LB port is one line with the fix, and nothing is started", async () => {
    const sb = await sandbox();
    cleanups.push([sb]);
    const busy = Bun.serve({ port: sb.mainPort, hostname: "127.0.0.1", fetch: () => new Response("taken") });
    try {
      const r = await gw(sb, ["up", "-c", sb.file]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(`gw: port ${sb.mainPort} of the load balancer is in use by pid ${process.pid} (bun) — change [global] main_port or stop that process`);
      expect(await processesIn(sb.dir)).toEqual([]);
    } finally {
      busy.stop(true);
    }
  }, 60_000);

  test("an instance whose binary is missing gets one line; the other instance and the LB still run", async () => {
    const sb = await sandbox([{ name: "a" }, { name: "gone", command: ["./no-such-cliproxy", "-config", "{config}"] }]);
    const g = await up(sb);
    expect(g.output()).toContain("command of instance 'gone' not found: ./no-such-cliproxy — fix [instances.gone] command or install it");
    expect(g.output()).toContain("1/2 instances ready");
    const res = await fetch(`http://127.0.0.1:${sb.mainPort}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    process.kill(g.proc.pid, "SIGTERM");
    expect(await g.proc.exited).toBe(0);
  }, 60_000);
});
