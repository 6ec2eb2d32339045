// What a launched agent keeps of the user's proxies (cld/proxies.ts), and which installed agents
// are trusted to honour NO_PROXY (by version: the builds measured, test/run/agents-proxy.test.ts).
import { describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PROXY_VARS, proxyRule } from "../../src/cld/proxies.ts";
import { claude } from "../../src/run/agents/claude/index.ts";
import { codex } from "../../src/run/agents/codex.ts";
import { gemini } from "../../src/run/agents/gemini.ts";
import { tempDir } from "../helpers/tmp.ts";

const user = { HTTPS_PROXY: "http://proxy.corp:3128", http_proxy: "http://proxy.corp:3128", NO_PROXY: "corp.example.com .internal", no_proxy: "localhost,git.corp" };

describe("proxyRule", () => {
  test("Anthropic's service (official) and a gateway elsewhere keep the proxies as they are, NO_PROXY too", () => {
    for (const url of ["https://api.anthropic.com", "https://gw.example.com/gw", "http://10.0.0.5:8145"]) {
      for (const honours of [true, false]) expect(proxyRule(user, url, () => honours)).toEqual({ blank: [], set: {} });
    }
  });

  test("a gateway on loopback, for an agent that honours NO_PROXY: proxies kept, loopback and the gateway's host added to the user's list, each once", () => {
    const both = "corp.example.com,.internal,localhost,git.corp,127.0.0.1,::1";
    expect(proxyRule(user, "http://127.0.0.1:8145", () => true)).toEqual({ blank: [], set: { NO_PROXY: both, no_proxy: both } });
    // Another loopback address, IPv6 in brackets; no address at all (a gateway on this machine).
    expect(proxyRule(user, "http://127.0.0.2:8145", () => true).set.NO_PROXY).toBe(`${both},127.0.0.2`);
    expect(proxyRule(user, "http://[::1]:8145/v1", () => true).set.NO_PROXY).toBe(both);
    // `localhost.` is loopback too (it was taken for a host elsewhere: the proxies kept, nothing added).
    expect(proxyRule(user, "http://LOCALHOST.:8045/v1", () => true).set.NO_PROXY).toBe(`${both},localhost.`);
    expect(proxyRule({ ALL_PROXY: "socks5://p:1080" }, undefined, () => true).set).toEqual({ NO_PROXY: "127.0.0.1,localhost,::1", no_proxy: "127.0.0.1,localhost,::1" });
  });

  test("a gateway on loopback, for an agent that ignores NO_PROXY: every proxy variable blanked", () => {
    expect(proxyRule(user, "http://localhost:8045/v1", () => false)).toEqual({ blank: PROXY_VARS, set: {} });
  });

  test("no proxy exported: nothing to keep away from loopback, nothing added", () => {
    expect(proxyRule({ NO_PROXY: "x" }, "http://127.0.0.1:8145", () => true)).toEqual({ blank: [], set: {} });
    expect(proxyRule({ HTTPS_PROXY: "" }, "http://127.0.0.1:8145", () => false)).toEqual({ blank: [], set: {} });
  });
});

describe("which installed agents honour NO_PROXY", () => {
  /** `bin/NAME` linked to a file of the npm package `pkg` at `version`, laid out as npm does. */
  function installed(name: string, pkg: string, version: string, file: string): string {
    const dir = tempDir("gw-agent-");
    const pkgDir = join(dir, "node_modules", pkg);
    mkdirSync(dirname(join(pkgDir, file)), { recursive: true });
    writeFileSync(join(pkgDir, "package.json"), JSON.stringify({ name: pkg, version }));
    writeFileSync(join(pkgDir, file), "");
    mkdirSync(join(dir, "bin"));
    symlinkSync(join(pkgDir, file), join(dir, "bin", name));
    return join(dir, "bin", name);
  }

  test("Claude Code from the measured 2.1.332 on; the builds that ignored it, those not measured and those not found, not", () => {
    for (const [version, honours] of [["2.1.332", true], ["2.1.400", true], ["2.1.206", false], ["2.1.91", false]] as const) {
      expect([version, claude.honoursNoProxy(installed("claude", "@anthropic-ai/claude-code", version, "bin/claude.exe"))]).toEqual([version, honours]);
    }
    // The native installer's layout (…/versions/2.1.206), and a claude whose version cannot be told: taken to be current.
    const dir = tempDir("gw-agent-");
    mkdirSync(join(dir, "versions"));
    writeFileSync(join(dir, "versions/2.1.206"), "");
    symlinkSync(join(dir, "versions/2.1.206"), join(dir, "claude"));
    expect(claude.honoursNoProxy(join(dir, "claude"))).toBe(false);
    expect(claude.honoursNoProxy(join(dir, "nowhere"))).toBe(false);
  });

  test("Claude Code behind a shim or wrapper (mise, asdf, volta): asked for its version; one that tells none is taken to be old", () => {
    // Was: taken to be current — an old build behind a shim kept the proxies and sent the gateway's traffic to them.
    const dir = tempDir("gw-agent-");
    const script = (name: string, body: string) => {
      writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
      return join(dir, name);
    };
    const old = script("claude-2.1.206", 'echo "2.1.206 (Claude Code)"');
    expect(claude.honoursNoProxy(script("shim-old", `exec ${old} "$@"`))).toBe(false);
    expect(claude.honoursNoProxy(script("shim-real", `exec ${Bun.which("claude", { PATH: join(import.meta.dir, "../../node_modules/.bin") })} "$@"`))).toBe(true);
    expect(claude.honoursNoProxy(script("mute", "exit 0"))).toBe(false);
  });

  test("the agent is asked only when the answer matters: a proxy exported and its API on this machine", () => {
    const never = () => {
      throw new Error("asked");
    };
    expect(proxyRule({}, "http://127.0.0.1:8145", never)).toEqual({ blank: [], set: {} });
    expect(proxyRule(user, "https://api.anthropic.com", never)).toEqual({ blank: [], set: {} });
  });

  test("Gemini CLI from the measured 0.61.0 on; Codex CLI always (reqwest reads NO_PROXY)", () => {
    expect(gemini.honoursNoProxy(installed("gemini", "@google/gemini-cli", "0.61.0", "bundle/gemini.js"))).toBe(true);
    expect(gemini.honoursNoProxy(installed("gemini", "@google/gemini-cli", "0.60.9", "bundle/gemini.js"))).toBe(false);
    // A shim (its layout tells no version): taken to be old.
    expect(gemini.honoursNoProxy(join(tempDir("gw-agent-"), "gemini"))).toBe(false);
    expect(codex.honoursNoProxy(installed("codex", "@openai/codex", "0.100.0", "bin/codex.js"))).toBe(true);
  });
});
