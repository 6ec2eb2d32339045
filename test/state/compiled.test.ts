// The compiled gw (src/release/build.ts) checkpoints its state file on the worker thread too: a
// binary holds only what its entry points reach, and `new Worker(…)` is not followed, so the
// worker's script has to be built in and found there (state/checkpoint.ts). Without it gw would
// warn and checkpoint inline, inside its commits.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { externalInstances } from "../helpers/lb.ts";
import { type MockServer, startMock } from "../helpers/mock.ts";
import { until } from "../helpers/supervisor.ts";
import { tempDir } from "../helpers/tmp.ts";
import { walIndex } from "../helpers/wal.ts";

let mock: MockServer;
beforeAll(() => {
  mock = startMock({ name: "a", apiKeys: ["key-a"] });
});
afterAll(() => mock.stop());

test("the compiled gw lb checkpoints its state file on the worker thread, without a warning", async () => {
  const dir = tempDir("gw-compiled-");
  const binary = join(dir, "gw");
  // `bun run build`'s own path, in a process of its own: built inside bun test, the bundle would
  // take NODE_ENV=test with it (consola then hides the "listening" line this test waits for).
  const build = Bun.spawn([process.execPath, join(import.meta.dir, "../../src/release/main.ts"), "--host", "--outfile", binary], {
    env: { ...process.env, NODE_ENV: undefined },
    stdout: "ignore",
    stderr: "pipe",
  });
  if ((await build.exited) !== 0) throw new Error(`build failed: ${await new Response(build.stderr).text()}`);
  const file = join(dir, "providers.toml");
  writeFileSync(file, `[global]\nhost = "127.0.0.1"\nmain_port = 8145\n${externalInstances({ a: mock.url })}\n[routing]\n"m" = [{ instance = "a", provider = "anthropic", model = "m" }]\n`);
  const proc = Bun.spawn([binary, "lb", "-c", file, "--port", "0"], {
    cwd: dir,
    env: { ...process.env, NODE_ENV: "production", NO_COLOR: "1", XDG_CACHE_HOME: join(dir, "cache"), GW_STATE: "" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const stderr = new Response(proc.stderr).text();
  try {
    let out = "";
    const reader = proc.stdout.getReader();
    while (!/http:\/\/\S+:\d+/.test(out)) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`gw lb exited: ${out}${await stderr}`);
      out += new TextDecoder().decode(value);
    }
    const url = /http:\/\/\S+:\d+/.exec(out)![0];
    // A new session: a sticky key, committed to the WAL; the worker copies it back afterwards.
    const res = await fetch(`${url}/v1/messages`, {
      method: "POST",
      headers: { "x-claude-code-session-id": crypto.randomUUID() },
      body: JSON.stringify({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    await res.text();
    const shm = join(dir, ".gw", "state.db-shm");
    await until(() => walIndex(shm).nBackfill > 0, 20_000, () => `a checkpoint: ${JSON.stringify(walIndex(shm))}`);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    expect(await stderr).not.toContain("checkpoint");
  } finally {
    proc.kill("SIGKILL");
  }
}, 60_000);
