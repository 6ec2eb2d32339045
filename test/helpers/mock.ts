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
    const url = await readUrl(proc);
    await waitHealthy(url);
    return {
      url,
      port: Number(new URL(url).port),
      proc,
      stats: async (lastN) => (await fetch(`${url}/_mock/stats${lastN ? `?last=${lastN}` : ""}`)).json() as Promise<MockStats>,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function readUrl(proc: Subprocess<"ignore", "pipe", "pipe">): Promise<string> {
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    while (Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += decoder.decode(value, { stream: true });
      const m = /listening on (http:\/\/\S+)/.exec(seen);
      if (m) return m[1]!;
    }
  } finally {
    reader.releaseLock();
  }
  const err = await new Response(proc.stderr).text().catch(() => "");
  throw new Error(`gw mock did not start: ${seen}${err}`.trim());
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
