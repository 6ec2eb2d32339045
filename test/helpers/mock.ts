/**
 * Test helpers for a CLIProxyAPI stand-in (`gw mock`). Two ways to get one:
 *
 *   In-process (fast, for most tests):
 *     import { startMock } from "../helpers/mock.ts";
 *     const up = startMock({ name: "a", apiKeys: ["k"], models: ["gemini-3-flash"] });
 *     // up.url, up.port, up.stats() (what arrived: headers, parsed bodies), up.reset()
 *     afterAll(() => up.stop());
 *
 *   As a real child process (what the supervisor runs):
 *     const up = await spawnMock(["--api-key", "k", "--name", "a"]);   // or ["-config", yamlPath]
 *     // up.url, up.port, up.proc, await up.stats(); always: await up.stop()
 *
 * Faults ride on the upstream model name (`gemini-3-flash~429`, `m~slow-first=800~cut=3`) or the
 * `x-mock-fault` header; the syntax is documented in src/mock/faults.ts and `gw mock --help`.
 */

import { join } from "node:path";
import type { Subprocess } from "bun";
import type { MockStats } from "../../src/mock/index.ts";

export { type MockOptions, type MockServer, startMock } from "../../src/mock/index.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");
const READY_TIMEOUT_MS = 20_000;

export interface SpawnedMock {
  url: string;
  port: number;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** What the child printed so far (stdout then stderr, the last 64 KB of each). */
  output(): string;
  /** GET /_mock/stats of the child. */
  stats(lastN?: number): Promise<MockStats>;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s. */
  stop(): Promise<void>;
}

/**
 * Spawns `bun src/main.ts mock ...args` (adds `--port 0` unless args set a port or a config),
 * reads the URL it prints, and waits until its /healthz answers.
 */
export async function spawnMock(args: readonly string[] = [], opts: { cwd?: string } = {}): Promise<SpawnedMock> {
  const hasPort = args.some((a) => /^--?(port|config)(=|$)/.test(a));
  const proc = Bun.spawn([process.execPath, MAIN, "mock", ...(hasPort ? [] : ["--port", "0"]), ...args], {
    cwd: opts.cwd,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode) return;
    proc.kill("SIGTERM");
    const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
    await proc.exited;
    clearTimeout(t);
  };
  try {
    const out = drain(proc.stdout);
    const errOut = drain(proc.stderr);
    const url = await waitForUrl(out, errOut, proc);
    await waitHealthy(url);
    return {
      url,
      port: Number(new URL(url).port),
      proc,
      output: () => out.text + errOut.text,
      stats: async (lastN) => (await fetch(`${url}/_mock/stats${lastN ? `?last=${lastN}` : ""}`)).json() as Promise<MockStats>,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

interface Drained {
  text: string;
  closed: Promise<void>;
}

/** Reads a pipe to its end in the background, so the child never blocks on a full pipe. */
function drain(stream: ReadableStream<Uint8Array>): Drained {
  const d: Drained = { text: "", closed: Promise.resolve() };
  const decoder = new TextDecoder();
  d.closed = (async () => {
    for await (const chunk of stream) d.text = (d.text + decoder.decode(chunk, { stream: true })).slice(-65536);
  })().catch(() => {});
  return d;
}

async function waitForUrl(out: Drained, err: Drained, proc: Subprocess): Promise<string> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const m = /listening on (http:\/\/\S+)/.exec(out.text);
    if (m) return m[1]!;
    if (proc.exitCode !== null || Date.now() > deadline) {
      await Promise.race([Promise.all([out.closed, err.closed]), Bun.sleep(1000)]);
      throw new Error(`gw mock did not start: ${out.text}${err.text}`.trim());
    }
    await Bun.sleep(20);
  }
}

async function waitHealthy(url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`gw mock at ${url} never answered /healthz`);
    await Bun.sleep(50);
  }
}
