// Which program sent each request: the request log's `agent` (cut from the User-Agent) and
// `gw usage --by agent` over it.
import { describe, expect, test } from "bun:test";
import { agentOf } from "../../src/observe/record.ts";
import { usageReport } from "../../src/observe/usage.ts";
import { record, writeRecords } from "../helpers/observe.ts";
import { runGw, tempDir } from "../helpers/tmp.ts";

describe("agentOf: the first product token as name/version, nothing else", () => {
  test.each([
    ["codex_exec/0.171.0 (Debian 12.0.0; x86_64) xterm (codex_exec; 0.171.0)", "codex_exec/0.171.0"],
    ["GeminiCLI-tui/0.61.0/g3f (linux; x64; terminal)", "GeminiCLI-tui/0.61.0"],
    ["claude-cli/2.1.332 (external, cli)", "claude-cli/2.1.332"],
    ["OpenAI/JS 7.57.0", "OpenAI"],
    ["curl/8.0.1", "curl/8.0.1"],
  ])("%s → %s", (ua, agent) => expect(agentOf(ua)).toBe(agent));

  test.each([null, "", "   ", "/etc/passwd", "(sk-secret-in-parens)", "1234/5", `${"x".repeat(41)}/1.0`, "naïve/1.0"])(
    "%p names no agent",
    (ua) => expect(agentOf(ua)).toBeUndefined(),
  );

  test("a version never carries more than its own characters (a key after it stays out)", () => {
    expect(agentOf("tool/1.0;sk-live-abcdef123456")).toBe("tool/1.0");
    expect(agentOf("tool/1.0 sk-live-abcdef123456")).toBe("tool/1.0");
  });
});

describe("gw usage --by agent", () => {
  const dir = tempDir("gw-usage-agent-");
  const ts = new Date().toISOString();
  writeRecords(`${dir}/logs/requests`, [
    record({ ts, route: "gpt5", agent: "codex_exec/0.171.0", usage: { input: 100, output: 10 } }),
    record({ ts, route: "gpt5", agent: "codex_exec/0.170.0", usage: { input: 50, output: 5 } }),
    record({ ts, route: "g3f", agent: "GeminiCLI-tui/0.61.0", usage: { input: 7, output: 1 } }),
    record({ ts, route: "g3f", usage: { input: 1, output: 1 } }),
  ]);

  test("one row per program, its versions together; requests without one under -", async () => {
    const r = await usageReport({ dirs: [`${dir}/logs/requests`], pricing: {}, sinceMs: Date.now() - 86_400_000, by: "agent" });
    const rows = Object.fromEntries(r.rows.map((x) => [x.key, [x.requests, x.input, x.output]]));
    expect(rows).toEqual({ codex_exec: [2, 150, 15], "GeminiCLI-tui": [1, 7, 1], "-": [1, 1, 1] });
  });

  test("the command takes it and prints the rows", async () => {
    await Bun.write(`${dir}/providers.toml`, `[global]\nmain_port = 18000\n[instances.a]\nport = 18001\nproviders = [{ type = "antigravity" }]\n`);
    const r = await runGw(["usage", "--by", "agent", "--json", "-c", `${dir}/providers.toml`], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.rows.map((x: { key: string }) => x.key).sort()).toEqual(["-", "GeminiCLI-tui", "codex_exec"]);
  });
});
