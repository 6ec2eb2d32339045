// Behind a company proxy (HTTP_PROXY and HTTPS_PROXY exported, the only way out of the user's
// network), with the real agents from npm: what goes to the gateway on this machine never goes to
// the proxy, and what goes elsewhere (Anthropic's service, the agents' own traffic) still does.
// The proxy is a loopback stand-in that notes every target and refuses it; gw runs `gw mock`
// instances. A launch whose agent asks the proxy for loopback is stopped there: that agent would
// retry for minutes.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { installClaudeCode, type MockGateway, startMockGateway } from "../helpers/claude-code.ts";
import { CldSandbox, MAIN, removeSandboxes } from "../helpers/cld.ts";
import { onLoopback, type RecordingProxy, recordingProxy } from "../helpers/recording-proxy.ts";
import { AGENT_PATH } from "./offline.ts";

setDefaultTimeout(180_000); // real CLIs on a shared 2-core machine
const KEY = "sk-gw-proxy-test-0123456789";
let g: MockGateway;
const box = new CldSandbox({ noClaude: true });
const PATH = `${box.bin}:${AGENT_PATH}`;

beforeAll(async () => {
  g = await startMockGateway(KEY);
  installClaudeCode(box.bin);
  // Gemini CLI starts only in a folder the user trusted.
  mkdirSync(join(box.home, ".gemini"), { recursive: true });
  writeFileSync(join(box.home, ".gemini/trustedFolders.json"), JSON.stringify({ [box.dir]: "TRUST_FOLDER" }));
});
afterAll(async () => {
  await g?.stop();
  removeSandboxes();
});

interface Launch {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The first loopback target the agent asked the proxy for (the launch was stopped there). */
  readonly astray?: string;
}

/**
 * `gw ARGV` (cld …, run …) with the user's proxies pointing at `proxy`; stopped at once when the
 * proxy is asked for loopback, or when `enough` (a target) comes.
 */
async function launch(argv: readonly string[], proxy: RecordingProxy, env: Record<string, string> = {}, enough?: (t: string) => boolean): Promise<Launch> {
  const proc = Bun.spawn([process.execPath, MAIN, ...argv], {
    cwd: box.dir,
    env: box.env({ PATH, TERM: "dumb", NO_COLOR: "1", HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, ...env }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    detached: true, // its own process group: the agent's children are stopped with it
  });
  let astray: string | undefined;
  const stop = () => {
    if (proc.exitCode === null) process.kill(-proc.pid, "SIGKILL");
  };
  void proxy.asked(onLoopback).then((t) => {
    astray ??= t;
    stop();
  });
  if (enough) void proxy.asked(enough).then(stop);
  // A bound for a failing run only (an agent retrying a host it cannot reach), inside the test's timeout.
  const bound = setTimeout(stop, 150_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(bound);
  return { code, stdout, stderr, astray };
}

/** A fresh proxy for one test, stopped after it. */
async function withProxy(body: (proxy: RecordingProxy) => Promise<void>): Promise<void> {
  const proxy = await recordingProxy();
  try {
    await body(proxy);
  } finally {
    proxy.stop();
  }
}

/**
 * The gateway answered (`model` upstream), the proxy was never asked for loopback, and it was
 * asked for the agent's own traffic elsewhere (Anthropic, GitHub, Google): kept, not blanked.
 */
function expectAnsweredBesideProxy(r: Launch, proxy: RecordingProxy, model: string) {
  expect(r.astray).toBeUndefined();
  expect(r.stdout).toContain(`Mock answer from instance a, model ${model}`);
  expect(r.code).toBe(0);
  expect(proxy.targets.filter((t) => !onLoopback(t))).not.toEqual([]);
}

describe("Claude Code (cld)", () => {
  test("cld cp: answered by the gateway on loopback, never through the proxy; Claude Code's own traffic still through it", () =>
    withProxy(async (proxy) => {
      expectAnsweredBesideProxy(await launch(["cld", "cp", "-c", g.file, "opus", "-p", "hi"], proxy), proxy, "claude-opus-4-6-thinking");
    }));

  test("cld official with the user's own ANTHROPIC_BASE_URL on loopback: answered there, not through the proxy", () =>
    withProxy(async (proxy) => {
      const r = await launch(["cld", "official", "-p", "hi"], proxy, { ANTHROPIC_BASE_URL: g.url, ANTHROPIC_API_KEY: KEY, ANTHROPIC_MODEL: "opus4.6" });
      expectAnsweredBesideProxy(r, proxy, "claude-opus-4-6-thinking");
    }));

  test("cld ag with the Antigravity proxy on loopback: answered there, not through the user's proxy", () =>
    withProxy(async (proxy) => {
      const ag = { ANTI_API_BASE: g.url, ANTI_API_TOKEN: KEY, CLD_AG_CODE_MODEL: "opus4.6", CLD_AG_DOC_MODEL: "g3p", CLD_AG_FAST_MODEL: "g3f" };
      expectAnsweredBesideProxy(await launch(["cld", "ag", "-p", "hi"], proxy, ag), proxy, "claude-opus-4-6-thinking");
    }));

  test("cld official with ANTHROPIC_BASE_URL on `localhost.` (the same name): reached direct, never through the proxy", () =>
    withProxy(async (proxy) => {
      // It went to the proxy, retried for minutes (stopped at its first ask here).
      const dotted = (t: string) => t.includes("localhost.");
      const r = await launch(["cld", "official", "-p", "hi"], proxy, { ANTHROPIC_BASE_URL: g.url.replace("127.0.0.1", "localhost."), ANTHROPIC_API_KEY: KEY, ANTHROPIC_MODEL: "opus4.6" }, dotted);
      expect(proxy.targets.filter(dotted)).toEqual([]);
      // And gw answered it: `localhost.` is a name of this machine's loopback (lb/browser.ts).
      expect(r.stdout).toContain("Mock answer from instance a, model claude-opus-4-6-thinking");
      expect(r.code).toBe(0);
    }));

  test("cld official, Anthropic's own service: Claude Code goes out through the user's proxy (the only way out)", () =>
    withProxy(async (proxy) => {
      const anthropic = (t: string) => t === "api.anthropic.com:443";
      const r = await launch(["cld", "official", "-p", "hi"], proxy, { ANTHROPIC_API_KEY: KEY }, anthropic);
      expect(r.astray).toBeUndefined();
      expect(proxy.targets.filter(anthropic)).not.toEqual([]);
    }));
});

describe("gw run codex, gemini, opencode and qwen", () => {
  test("codex exec: answered by the gateway on loopback, never through the proxy; Codex's own traffic still through it", () =>
    withProxy(async (proxy) => {
      const r = await launch(["run", "codex", "-c", g.file, "g3f", "exec", "--skip-git-repo-check", "Say hello"], proxy);
      expectAnsweredBesideProxy(r, proxy, "gemini-3-flash");
    }));

  test("gemini -p: answered by the gateway on loopback, never through the proxy; Gemini CLI's own traffic still through it", () =>
    withProxy(async (proxy) => {
      expectAnsweredBesideProxy(await launch(["run", "gemini", "-c", g.file, "g3f", "-p", "Say hello"], proxy), proxy, "gemini-3-flash");
    }));

  test("opencode run: answered by the gateway on loopback, never through the proxy; opencode's own traffic still through it", () =>
    withProxy(async (proxy) => {
      expectAnsweredBesideProxy(await launch(["run", "opencode", "-c", g.file, "g3f", "run", "Say hello"], proxy), proxy, "gemini-3-flash");
    }));

  test("qwen -p: answered by the gateway on loopback, never through the proxy; Qwen Code's own traffic still through it", () =>
    withProxy(async (proxy) => {
      expectAnsweredBesideProxy(await launch(["run", "qwen", "-c", g.file, "g3f", "-p", "Say hello"], proxy), proxy, "gemini-3-flash");
    }));
});
