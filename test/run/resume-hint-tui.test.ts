// Codex CLI and Gemini CLI on a real terminal (a tmux pane), started by `gw run AGENT ROUTE` with a
// fresh HOME in a network namespace that has only loopback (offline.ts): after an answer through gw,
// the agent is ended as its user ends it, and its own exit hint (`codex resume ID`, `gemini --resume
// ID`) — which would start it on its own service, off the gateway — is followed by gw's line naming
// the same session with `gw run AGENT ROUTE …`. (Qwen Code and opencode: qwen-tui.test.ts,
// opencode-tui.test.ts.)
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TmuxPane } from "../cld/tmux-pane.ts";
import { agentSandboxForFile, codexDaemonDirCleanup, offlineCommand, versionOf } from "./offline.ts";

setDefaultTimeout(180_000); // real TUIs, gw and its instance starting on a shared 2-core machine
const KEY = "sk-gw-resume-hint-0123456789";
const CODEX = versionOf("@openai/codex");
const GEMINI = versionOf("@google/gemini-cli");

afterAll(codexDaemonDirCleanup());

// One gateway each: a test that failed half-way leaves its own behind until the file ends.
const boxes = { codex: agentSandboxForFile(KEY, { gpt5: "gpt-5" }), gemini: agentSandboxForFile(KEY, { g3f: "gemini-3-flash" }) };

/** Types the prompt, and sends it once the agent shows it (a TUI still reading the paste drops an Enter). */
async function ask(pane: TmuxPane, prompt: string) {
  await pane.send("-l", prompt);
  await pane.waitFor(prompt, 30_000);
  await Bun.sleep(300);
  await pane.send("Enter");
}

/** Ctrl-C, once more when the agent asks for it (a second one after it exited would end the pane's shell). */
async function quit(pane: TmuxPane) {
  await pane.send("C-c");
  const screen = await pane.waitFor(/\[exit \d+\]|again to (quit|exit)/i, 30_000);
  if (!/\[exit \d+\]/.test(screen)) await pane.send("C-c");
}

/** The screen once the agent exited, its lines joined (a long line wraps in the pane). */
async function session(agent: "codex" | "gemini", route: string, drive: (pane: TmuxPane) => Promise<void>): Promise<string> {
  const { sb, home, work } = boxes[agent];
  const pane = new TmuxPane(sb.dir);
  try {
    const { argv, env } = offlineCommand(sb, home, work, [agent, "-c", sb.file, route], true);
    await pane.start(argv, env, work);
    await drive(pane);
    return (await pane.waitFor(/\[exit \d+\]/, 60_000)).replace(/\s*\n\s*/g, " ");
  } finally {
    await pane.kill();
  }
}

test(`codex ${CODEX}: after Ctrl-C, gw names the session to resume through the gateway`, async () => {
  const box = boxes.codex;
  mkdirSync(join(box.home, ".codex"), { recursive: true });
  writeFileSync(join(box.home, ".codex/config.toml"), `[projects."${box.work}"]\ntrust_level = "trusted"\n`);
  const done = await session("codex", "gpt5", async (pane) => {
    await pane.waitFor("Ask Codex to do anything", 90_000); // its composer, ready for a prompt
    await ask(pane, "Say hello");
    await pane.waitFor("Mock answer from instance a, model gpt-5.", 60_000);
    // The turn's end: a Ctrl-C before it interrupts the turn instead of starting to quit.
    await pane.waitFor(/Worked for/, 60_000);
    await quit(pane);
  });
  const id = /codex resume ([0-9a-f-]{36})/.exec(done)?.[1];
  expect(id).toBeDefined();
  expect(done).toContain(`gw run codex: resume it through the gateway with: gw run codex gpt5 resume ${id}`);
});

test(`gemini ${GEMINI}: after Ctrl-C, gw names the session to resume through the gateway`, async () => {
  const box = boxes.gemini;
  mkdirSync(join(box.home, ".gemini"), { recursive: true });
  writeFileSync(join(box.home, ".gemini/trustedFolders.json"), JSON.stringify({ [box.work]: "TRUST_FOLDER" }));
  const done = await session("gemini", "g3f", async (pane) => {
    await pane.waitFor(/Type your message/, 90_000);
    await ask(pane, "Say hello");
    await pane.waitFor("Mock answer from instance a, model gemini-3-flash.", 60_000);
    await quit(pane);
  });
  const id = /gemini --resume ([0-9a-f-]{36})/.exec(done)?.[1];
  expect(id).toBeDefined();
  expect(done).toContain(`gw run gemini: resume it through the gateway with: gw run gemini g3f --resume ${id}`);
});
