// `gw lb`: the LB alone as a real process, against an instance already running; it follows
// edits of its config file, is listed among the running gws while it serves, and stops cleanly
// on SIGTERM.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { listRunning } from "../../src/supervisor/registry.ts";
import { externalInstances } from "../helpers/lb.ts";
import { type MockServer, startMock } from "../helpers/mock.ts";
import { tempDir } from "../helpers/tmp.ts";

let mock: MockServer;
beforeAll(() => {
  mock = startMock({ name: "a", apiKeys: ["key-a"] });
});
afterAll(() => mock.stop());

const toml = (model: string) => `
[global]
host = "127.0.0.1"
main_port = 8145
${externalInstances({ a: mock.url })}
[routing]
"m" = [{ instance = "a", provider = "anthropic", model = "${model}" }]
`;

test("gw lb serves, reloads on edit, stops on SIGTERM", async () => {
  const dir = tempDir();
  const file = join(dir, "providers.toml");
  writeFileSync(file, toml("first"));
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "../../src/main.ts"), "lb", "-c", file, "--port", "0"], {
    cwd: dir,
    env: { ...process.env, NODE_ENV: "production", NO_COLOR: "1", XDG_CACHE_HOME: join(dir, "cache") },
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    let out = "";
    const reader = proc.stdout.getReader();
    while (!/http:\/\/\S+:\d+/.test(out)) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`gw lb exited: ${out}${await new Response(proc.stderr).text()}`);
      out += new TextDecoder().decode(value);
    }
    const url = /http:\/\/\S+:\d+/.exec(out)![0];
    const ask = async () => {
      const res = await fetch(`${url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "m", max_tokens: 5, messages: [] }) });
      await res.text();
      return res.headers.get("x-gw-target");
    };
    expect(await ask()).toBe("a/first");
    const registry = { XDG_CACHE_HOME: join(dir, "cache") };
    expect((await listRunning(registry)).map((e) => [e.pid, e.kind, e.config, e.url])).toEqual([[proc.pid, "lb", file, url]]);
    writeFileSync(file, toml("second"));
    let target: string | null = null;
    for (let i = 0; i < 300 && target !== "a/second"; i++) {
      target = await ask();
      if (target !== "a/second") await Bun.sleep(50);
    }
    expect(target).toBe("a/second");
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    expect(await listRunning(registry)).toEqual([]);
  } finally {
    proc.kill("SIGKILL");
  }
}, 30_000);
