// `gw lb`: the LB alone as a real process, against an instance already running; it follows
// edits of its config file, is listed among the running gws while it serves, and stops cleanly
// on SIGTERM. A port it cannot have is refused in gw up's words.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { openLocalState } from "../../src/state/local.ts";
import { listRunning } from "../../src/supervisor/registry.ts";
import { externalInstances } from "../helpers/lb.ts";
import { type MockServer, startMock } from "../helpers/mock.ts";
import { freePort } from "../helpers/ports.ts";
import { OWN_NAME, startGw } from "../helpers/supervisor.ts";
import { runGw, tempDir } from "../helpers/tmp.ts";

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

describe("gw lb on a port it cannot have: refused as gw up refuses it, no stack trace", () => {
  const setUp = (global: string) => {
    const dir = tempDir();
    const file = join(dir, "providers.toml");
    writeFileSync(file, `[global]\n${global}\n${externalInstances({ a: mock.url })}\n[routing]\n"m" = [{ instance = "a", provider = "anthropic", model = "x" }]\n`);
    const env = { XDG_CACHE_HOME: join(dir, "cache"), XDG_DATA_HOME: join(dir, "data"), GW_STATE: "", GW_CONFIG: undefined };
    return { dir, file, env };
  };
  const run = (s: ReturnType<typeof setUp>, command: string) => runGw([command, "-c", s.file], { cwd: s.dir, env: s.env });

  test("held by another program (exit 1) or by another gw (exit 3, with how to stop it): gw up's words, the same for gw lb", async () => {
    const port = await freePort();
    const holder = Bun.listen({ hostname: "127.0.0.1", port, socket: { data: () => {} } });
    const s = setUp(`host = "127.0.0.1"\nmain_port = ${port}`);
    try {
      const [lb, up] = [await run(s, "lb"), await run(s, "up")];
      expect(lb.stderr).toEndWith(`gw: port ${port} of the load balancer is in use by pid ${process.pid} (${OWN_NAME}) — change [global] main_port or stop that process\n`);
      expect([lb.code, lb.stderr]).toEqual([up.code, up.stderr]);
      expect(lb.code).toBe(1);
    } finally {
      holder.stop(true);
    }
    const first = startGw(s, ["lb", "-c", s.file]);
    try {
      await first.waitFor(`gw lb listening on http://127.0.0.1:${port}`);
      const [lb, up] = [await run(s, "lb"), await run(s, "up")];
      // gw down cannot stop a gw lb (it has no control socket): the hint says what does.
      expect(lb.stderr).toContain(`gw: port ${port} of the load balancer is in use by a gw lb (pid ${first.proc.pid}, config ${s.file})\n  stop it where it runs (Ctrl-C) or with: kill ${first.proc.pid} — or run this one elsewhere: `);
      expect([lb.code, lb.stderr]).toEqual([up.code, up.stderr]);
      expect(lb.code).toBe(3);
    } finally {
      first.proc.kill("SIGTERM");
      await first.proc.exited;
    }
  }, 30_000);

  test("a listen that fails with a cooldown in the state: the one line naming the key to change, no crash of the prober's log", async () => {
    // An address of TEST-NET-1, which no machine here has (with client keys, or gw would bind 127.0.0.1 instead).
    const s = setUp(`host = "192.0.2.1"\nmain_port = ${await freePort()}\napi_keys = ["client-key-1"]`);
    // Half-open (ended a second ago): its probe is due at once.
    const state = openLocalState({ file: join(s.dir, ".gw", "state.db"), log: { info() {}, warn() {} } });
    state.setCooldown("m", "a/x", { until: Date.now() - 1000, kind: "transient_heavy", reason: "429", setAt: Date.now() - 61_000 });
    await state.close();
    const lb = await run(s, "lb");
    expect(lb.code).toBe(1);
    expect(lb.stderr).toMatch(/^gw: the load balancer could not listen on 192\.0\.2\.1:\d+ \([^)]*\) — change \[global\] host to an address this machine has/);
    expect(lb.stdout + lb.stderr).not.toMatch(/ReferenceError|Error: |\n +at |probe:/);
  }, 30_000);
});
