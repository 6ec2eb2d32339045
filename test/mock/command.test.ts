// `gw mock` as a real child process: the real binary's flags (-config FILE, logins), its own
// knobs, errors for bad flags, /_mock/stats over HTTP, and a clean exit on SIGTERM.

import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { type SpawnedMock, spawnMock } from "../helpers/mock.ts";
import { runGw, tempFiles } from "../helpers/tmp.ts";

// Child processes and streams are slow on a loaded 2-core machine; nothing here is timed.
setDefaultTimeout(60_000);

const started: SpawnedMock[] = [];
afterAll(() => Promise.all(started.map((m) => m.stop())));
async function spawn(args: string[], cwd?: string) {
  const m = await spawnMock(args, { cwd });
  started.push(m);
  return m;
}

/** A free port: bind 0, note it, release it. */
function freePort(): number {
  const s = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

describe("gw mock -config FILE", () => {
  test("reads port, api-keys and models from the YAML; the instance name is the file's base name", async () => {
    const port = freePort();
    const dir = tempFiles({
      "official.yaml": `host: 127.0.0.1\nport: ${port}\napi-keys: ["inst-1"]\nclaude-api-key:\n  - api-key: sk\n    models: [{ name: claude-opus-4-6, alias: claude-opus-4-6 }]\n`,
    });
    const m = await spawn(["-config", join(dir, "official.yaml")]);
    expect(m.port).toBe(port);
    const client = new Anthropic({ apiKey: "inst-1", baseURL: m.url, maxRetries: 0 });
    const msg = await client.messages.create({ model: "claude-opus-4-6", max_tokens: 9, messages: [{ role: "user", content: "hi" }] });
    expect(msg.content[0]!.type === "text" && msg.content[0]!.text).toStartWith("Mock answer from instance official, model claude-opus-4-6.");
    const unknown = await client.messages.create({ model: "gpt-5", max_tokens: 9, messages: [] }).catch((e) => e);
    expect(unknown.status).toBe(400);
    const stats = await m.stats();
    expect(stats.name).toBe("official");
    expect(stats.byPath["/v1/messages"]).toBe(2);
  });

  test("--config, --port and --name may be spelled with two dashes and =", async () => {
    const dir = tempFiles({ "x.yaml": "port: 1\n" });
    const m = await spawn([`--config=${join(dir, "x.yaml")}`, "--port=0", "--name=renamed"]);
    expect((await m.stats()).name).toBe("renamed");
  });
});

describe("gw mock without a file", () => {
  test("--api-key, --models, --fault, --events apply to every request", async () => {
    const m = await spawn(["--api-key", "a", "--api-key", "b", "--models", "m1,m2", "--fault", "events=2", "--name", "n"]);
    const ask = (key: string, model: string) =>
      fetch(`${m.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ model, messages: [] }) });
    expect((await ask("c", "m1")).status).toBe(401);
    expect((await ask("b", "m3")).status).toBe(400);
    const ok = await (await ask("a", "m2")).json();
    expect(ok.choices[0].message.content).toBe("Mock answer from instance n, model m2.");
    expect(ok.usage.completion_tokens).toBe(2);
  });

  test("SIGTERM stops it with exit code 0", async () => {
    const m = await spawnMock([]);
    m.proc.kill("SIGTERM");
    expect(await m.proc.exited).toBe(0);
  });
});

describe("flags of the real binary", () => {
  test.each([
    "-claude-login", "-codex-login", "-codex-device-login", "-antigravity-login", "-kimi-login", "-xai-login",
  ])("%s prints what it would do and exits 0", async (flag) => {
    const r = await runGw(["mock", "-config", "instances/a.yaml", flag]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${flag} would open a browser`);
    expect(r.stdout).toContain("instances/a.yaml");
  });

  test("-no-browser, -oauth-callback-port and -vertex-import are understood", async () => {
    const login = await runGw(["mock", "-codex-login", "-no-browser", "-oauth-callback-port", "1455"]);
    expect(login.code).toBe(0);
    expect(login.stdout).toContain("print the OAuth URL (no browser)");
    const vertex = await runGw(["mock", "-vertex-import", "sa.json"]);
    expect(vertex.code).toBe(0);
    expect(vertex.stdout).toContain("sa.json");
  });

  test("unknown and removed flags are clear errors (exit 2)", async () => {
    const typo = await runGw(["mock", "--prot", "3"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("gw: mock: unknown flag --prot");
    const removed = await runGw(["mock", "-login"]);
    expect(removed.code).toBe(2);
    expect(removed.stderr).toContain("-login (Gemini CLI) was removed from CLIProxyAPI");
    const bad = await runGw(["mock", "--fault", "42x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown fault token "42x"');
    const noValue = await runGw(["mock", "--port"]);
    expect(noValue.stderr).toContain("flag --port needs a value");
  });

  test("--help documents the fault syntax", async () => {
    const r = await runGw(["mock", "--help"]);
    expect(r.code).toBe(0);
    for (const s of ["-config FILE", "x-mock-fault", "429[=S]", "slow-first=MS", "cut=N", "after=N", "hang", "ns-keepalive=MS", "window=N", "/_mock/stats"]) {
      expect(r.stdout).toContain(s);
    }
    // One line per token: the help is read in a terminal.
    expect(r.stdout).toContain("ns-keepalive=MS  non-streamed + slow-first: 200 and a newline every MS ms");
  });

  test("a port in use is reported, not a stack trace", async () => {
    const holder = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
    try {
      const r = await runGw(["mock", "--port", String(holder.port)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`port ${holder.port} is already in use`);
    } finally {
      holder.stop(true);
    }
  });
});

describe("spawnMock", () => {
  test("a child that cannot start fails with its own message", async () => {
    const err = await spawnMock(["--fault", "nope"]).catch((e) => e);
    expect(String(err.message)).toContain('gw mock did not start: gw: mock: -fault: unknown fault token "nope"');
  });

  test("output() shows what the child printed", async () => {
    const m = await spawn(["--name", "talker"]);
    expect(m.output()).toContain('gw mock "talker" listening on http://127.0.0.1:');
  });
});
