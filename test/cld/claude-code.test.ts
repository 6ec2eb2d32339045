// The real Claude Code (npm @anthropic-ai/claude-code) through cld and a real gw with `gw mock`
// instances, from the first launch in a fresh HOME to a long session: no prompt, no dead end,
// every model it asks for routed. Print mode first, then a terminal (tmux) for the interactive
// parts. Everything waits for what the screen or the request log shows, never a guessed time.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { printsCldHint } from "../../src/run/agents/claude/resume.ts";
import type { RequestRecord } from "../../src/observe/record.ts";
import { claudeCodeVersion, installClaudeCode, type MockGateway, startMockGateway } from "../helpers/claude-code.ts";
import { CldSandbox, MAIN, removeSandboxes } from "../helpers/cld.ts";
import { PROMPT, submit } from "./claude-code-screen.ts";
import { TmuxPane } from "./tmux-pane.ts";

setDefaultTimeout(240_000); // Claude Code starts in seconds; a shared 2-core machine may be busy
const KEY = "sk-gw-client-key-0123456789";
let g: MockGateway;
let version = "";
const box = new CldSandbox({ noClaude: true });
const PATH = `${box.bin}:/usr/bin:/bin`;

beforeAll(async () => {
  g = await startMockGateway(KEY);
  installClaudeCode(box.bin);
  version = await claudeCodeVersion(join(box.bin, "claude"));
  console.log(`Claude Code ${version} (${process.env.GW_TEST_CLAUDE ?? "npm devDependency"})`);
});
afterAll(async () => {
  await g?.stop();
  removeSandboxes();
});

/** Every request gw proxied named a route (the model itself or its claude-gw- alias) and got 200. */
function expectAllRouted(records: readonly RequestRecord[]) {
  const astray = records.filter((r) => !r.routing.route || r.response.status !== 200).map((r) => `${r.request.model} → ${r.routing.route ?? "-"} ${r.response.status}`);
  expect(astray).toEqual([]);
}

describe("print mode", () => {
  test("cld cp opus -p: answered through gw, with the main route's window and no unknown-model warning", async () => {
    const before = g.mark();
    const r = await box.run(["cp", "-c", g.file, "opus", "-p", "say hi", "--output-format", "json"], { env: { PATH } });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { result: string; modelUsage: Record<string, { contextWindow: number }> };
    expect(out.result).toContain("Mock answer from instance a, model claude-opus-4-6-thinking");
    expect(out.modelUsage["opus4.6"]!.contextWindow).toBe(200_000); // Claude without context-1m, not the 1M Claude Code assumes
    expect(r.stderr).toStartWith(`cld: config ${g.file} (-c) → ${g.url}\ncld: opus4.6 (200k context) · fast g3f (scenario Performance) · opus opus4.6 (scenario Performance) · ${g.url}\n`);
    // The warning that used to stop a session. Claude Code 2.1.33x also prints a one-line signal,
    // `[claude-code:unrecognized_model] {"model":"opus4.6",…}`, for any id outside its catalogue;
    // only `modelOverrides` in its settings would silence it, at the price of Claude Code taking
    // the route for a Claude model it knows (window, prices), so it stays.
    expect(r.stderr).not.toContain("doesn't recognize");
    expectAllRouted(await g.waitForRequests({ since: before }));
  });

  test("every model tier Claude Code knows is a route: opus and fable → opus, sonnet → main, haiku → fast", async () => {
    const before = g.mark();
    const tiers = ["opus", "sonnet", "haiku", "fable"];
    // In parallel: each answer names the model id Claude Code sent for its tier.
    const sent = await Promise.all(tiers.map(async (tier) => {
      const r = await box.run(["cp", "-c", g.file, "g3p", "-p", "hi", "--model", tier, "--output-format", "json"], { env: { PATH } });
      expect(r.code).toBe(0);
      return [tier, Object.keys(JSON.parse(r.stdout).modelUsage)] as const;
    }));
    expect(Object.fromEntries(sent)).toEqual({ opus: ["opus4.6"], sonnet: ["g3p"], haiku: ["g3f"], fable: ["opus4.6"] });
    expectAllRouted(await g.waitForRequests({ since: before, count: tiers.length }));
  });

  test("a route's context_window reaches Claude Code", async () => {
    const r = await box.run(["cp", "-c", g.file, "g3p", "-p", "hi", "--output-format", "json"], { env: { PATH } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).modelUsage.g3p.contextWindow).toBe(1_048_576);
    // No advice to cap a route of 1M at 200K (CLAUDE_CODE_DISABLE_1M_CONTEXT is for routes within
    // 200K): Claude Code gave it on every -p run with text output.
    const text = await box.run(["cp", "-c", g.file, "g3p", "-p", "hi"], { env: { PATH } });
    expect(text.code).toBe(0);
    expect(text.stderr).not.toContain("CLAUDE_CODE_DISABLE_1M_CONTEXT");
    expect(text.stderr).not.toContain("AUTO_COMPACT_WINDOW");
  });
});

/**
 * In Claude Code's /model list, move to the entry whose line matches `entry` and take it for this
 * session only (confirming Claude Code's own "the cached conversation is re-read" question).
 */
async function chooseModel(t: TmuxPane, entry: RegExp): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const screen = await t.capture();
    const current = screen.split("\n").find((l) => /^\s*❯ \d+\./.test(l));
    if (current && entry.test(current)) {
      await t.send("s");
      if ((await t.waitFor(/Set model to|Switch model\?/)).includes("Switch model?")) await t.send("Enter");
      await t.waitFor("Set model to");
      return;
    }
    await t.send("Down");
    await t.waitFor((s: string) => s.split("\n").find((l) => /^\s*❯ \d+\./.test(l)) !== current);
  }
  throw new Error(`no /model entry matches ${entry}`);
}

describe("interactive, on a terminal", () => {
  const cpDir = join(box.home, ".cache/cld/cp");
  let sessionId = "";

  test("first launch to long session: no prompt, no dead end, the picker offers routes only, every request routed", async () => {
    const before = g.mark();
    const probesBefore = (await g.metric("gw_local_answers_total", 'path="/"')) + (await g.metric("gw_local_answers_total", 'path="/api/hello"'));
    const modelsBefore = await g.metric("gw_local_answers_total", 'path="/v1/models"');
    // The user's own Claude Code trusts this folder; an older cld left its key refused at the prompt.
    writeFileSync(join(box.home, ".claude.json"), JSON.stringify({ theme: "light", projects: { [box.dir]: { hasTrustDialogAccepted: true } } }));
    mkdirSync(cpDir, { recursive: true });
    writeFileSync(join(cpDir, ".claude.json"), JSON.stringify({ customApiKeyResponses: { approved: [], rejected: [KEY.slice(-20)] } }));

    const t = new TmuxPane(box.dir);
    try {
      await t.start([process.execPath, MAIN, "cld", "cp", "-c", g.file, "opus"], box.env({ PATH }));
      const first = await t.waitFor(PROMPT, 60_000);
      for (const deadEnd of ["Detected a custom API key", "Unable to connect", "isn't recognized", "trust this folder", "Not logged in"]) expect(first).not.toContain(deadEnd);

      await submit(t, "say hi", "Mock answer from instance a, model claude-opus-4-6-thinking");

      await submit(t, "/context", /\/200k tokens/); // the main route's window, not the 1M Claude Code assumes

      const picker = await submit(t, "/model", /Select model[\s\S]*Esc/);
      for (const route of ["opus4.6 → Claude Opus 4.6 · 200k", "g3f → Gemini 3 Flash Preview · 1M", "g3p → Gemini 3 Pro Preview · 1049k"]) expect(picker).toContain(route);
      expect(picker).toContain("gw fast route (Haiku tier)");
      // Every entry is a route (or Default, which is main): no built-in Anthropic model
      // (Sonnet 5.5, Fable 5.2, …) that would bypass the routes.
      const entries = picker.split("\n").flatMap((l) => /^\s*(?:❯ )?\d+\. (\S+)/.exec(l)?.[1] ?? []);
      expect(entries.length).toBeGreaterThanOrEqual(7);
      expect(entries.filter((label) => !["Default", "opus4.6", "g3f", "g3p"].includes(label))).toEqual([]);
      await chooseModel(t, /g3f → Gemini/);
      await submit(t, "hello g3f", "model gemini-3-flash");

      await submit(t, "/compact", /Compacted|compacted/);
      const end = await submit(t, "/exit", /\[exit 0\]/);
      sessionId = /cld --resume ([0-9a-f-]{36})/.exec(end)?.[1] ?? "";
      expect(sessionId).not.toBe("");
      // From 2.1.323 Claude Code's own hint names cld; before, cld follows it with its own line.
      expect(end).toContain(printsCldHint(version) ? `Resume this session with:\ncld --resume ${sessionId}` : `cld: resume it through the gateway with: cld --resume ${sessionId}`);
    } finally {
      await t.kill();
    }

    const session = await g.waitForRequests({ since: before, count: 4 });
    expectAllRouted(session);
    expect(session.some((r) => r.request.model === "claude-gw-g3f" && r.routing.route === "g3f")).toBe(true);
    expect(new Set(session.map((r) => r.routing.route))).toEqual(new Set(["opus4.6", "g3f"])); // main, and fast for background work
    // gw answered the connectivity probe and the model list itself, and counted both.
    expect((await g.metric("gw_local_answers_total", 'path="/"')) + (await g.metric("gw_local_answers_total", 'path="/api/hello"'))).toBeGreaterThan(probesBefore);
    expect(await g.metric("gw_local_answers_total", 'path="/v1/models"')).toBeGreaterThan(modelsBefore);
    // The config dir was made ready and repaired, the user's theme carried over.
    const config = JSON.parse(readFileSync(join(cpDir, ".claude.json"), "utf8"));
    expect(config).toMatchObject({ hasCompletedOnboarding: true, theme: "light" });
    expect(config.customApiKeyResponses?.rejected ?? []).not.toContain(KEY.slice(-20)); // Claude Code drops the key when it is empty
  });

  test("cld --resume ID, as the exit hint says: the same conversation through the gateway, nothing asked", async () => {
    expect(sessionId).not.toBe(""); // from the long session above
    expect(existsSync(join(cpDir, "projects"))).toBe(true);
    const before = g.mark();
    const t = new TmuxPane(box.dir);
    try {
      await t.start([process.execPath, MAIN, "cld", "-c", g.file, "--resume", sessionId], box.env({ PATH }));
      const screen = await t.waitFor(PROMPT, 60_000);
      expect(screen).not.toContain("Pick 1-3"); // no mode question: the session's own mode
      expect(screen).toContain("/compact"); // the conversation above, as it ended
      await submit(t, "still there?", /still there\?[\s\S]*Mock answer from instance a/);
    } finally {
      await t.kill();
    }
    expectAllRouted(await g.waitForRequests({ since: before }));
  });
});

describe("ag and official: Claude Code's way back in resumes in the same mode", () => {
  // gw stands in for the Antigravity proxy (ag) and for Anthropic's service (official, through the
  // user's own ANTHROPIC_BASE_URL): what matters is which command the exit hint names and where it leads.
  const agEnv = { PATH, ANTI_API_BASE: "", ANTI_API_TOKEN: KEY, CLD_AG_CODE_MODEL: "opus4.6", CLD_AG_DOC_MODEL: "g3p", CLD_AG_FAST_MODEL: "g3f" };
  const officialEnv = { PATH, ANTHROPIC_BASE_URL: "", ANTHROPIC_API_KEY: KEY, ANTHROPIC_MODEL: "opus4.6", ANTHROPIC_DEFAULT_HAIKU_MODEL: "g3f" };

  beforeAll(() => {
    // the user's own Claude Code: onboarded, this folder trusted (ag carries it over), their key approved (official)
    const own = join(box.home, ".claude.json");
    const current = existsSync(own) ? JSON.parse(readFileSync(own, "utf8")) : {};
    writeFileSync(own, JSON.stringify({ ...current, hasCompletedOnboarding: true, customApiKeyResponses: { approved: [KEY.slice(-20)], rejected: [] }, projects: { [box.dir]: { hasTrustDialogAccepted: true } } }));
  });

  /** Launch `argv` (cld …), say hi, exit: the session id the exit hint names and the screen's end. */
  async function sessionIn(argv: readonly string[], env: Record<string, string>): Promise<{ id: string; end: string }> {
    const t = new TmuxPane(box.dir);
    try {
      await t.start([process.execPath, MAIN, "cld", ...argv], box.env(env));
      await t.waitFor(PROMPT, 60_000);
      await submit(t, "say hi", "Mock answer from instance a, model claude-opus-4-6-thinking");
      const end = await submit(t, "/exit", /\[exit 0\]/);
      return { id: /--resume ([0-9a-f-]{36})/.exec(end)?.[1] ?? "", end };
    } finally {
      await t.kill();
    }
  }

  /** `cld --resume ID` as the hint says: the conversation is there and the next turn reaches gw as `mode` sends it. */
  async function resumes(id: string, env: Record<string, string>, via: (r: RequestRecord) => boolean): Promise<void> {
    const before = g.mark();
    const t = new TmuxPane(box.dir);
    try {
      await t.start([process.execPath, MAIN, "cld", "--resume", id], box.env(env));
      const screen = await t.waitFor(PROMPT, 60_000);
      expect(screen).not.toContain("Pick 1-3"); // no mode question: the session's own mode
      expect(screen).toContain("say hi");
      await submit(t, "still there?", /still there\?[\s\S]*Mock answer from instance a/);
    } finally {
      await t.kill();
    }
    expect((await g.waitForRequests({ since: before })).filter(via).length).toBeGreaterThan(0);
  }

  /** The hint names cld (Claude Code's own line from 2.1.323, else cld's after it), never a bare `claude --resume`. */
  function expectCldHint(end: string, id: string, through: string) {
    expect(id).not.toBe("");
    const cldLine = `cld: resume it through ${through} with: cld --resume ${id}`;
    expect(end).toContain(printsCldHint(version) ? `Resume this session with:\ncld --resume ${id}` : cldLine);
    if (printsCldHint(version)) expect(end).not.toContain("claude --resume");
  }

  test("cld ag: the hint says cld --resume ID, which resumes straight to Antigravity again", async () => {
    const env = { ...agEnv, ANTI_API_BASE: g.url };
    const { id, end } = await sessionIn(["ag"], env);
    expectCldHint(end, id, "Antigravity");
    expect(existsSync(join(box.home, ".cache/cld/ag/projects"))).toBe(true);
    await resumes(id, env, (r) => r.request.model === "opus4.6");
  });

  test("cld official: the hint says cld --resume ID, which resumes in official mode (the user's own Claude Code setup)", async () => {
    const env = { ...officialEnv, ANTHROPIC_BASE_URL: g.url };
    const { id, end } = await sessionIn(["official"], env);
    expectCldHint(end, id, "Anthropic");
    await resumes(id, env, (r) => r.request.model === "opus4.6");
  });
});
