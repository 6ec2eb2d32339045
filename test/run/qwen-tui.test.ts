// Qwen Code's own interface on a real terminal (a tmux pane), started by `gw run qwen ROUTE` with a
// fresh HOME in a network namespace that has only loopback (offline.ts): a first launch reaches an
// answer with no question or dead end on the way (no auth dialog: gw's settings select the key) —
// the prompt typed, the gateway's answer on the screen, the route and the window the gateway
// serves in its footer — and two Ctrl-C end it with exit 0, naming the session to resume through gw.
import { expect, setDefaultTimeout, test } from "bun:test";
import { TmuxPane } from "../cld/tmux-pane.ts";
import { agentSandboxForFile, offlineCommand, requestLog, versionOf } from "./offline.ts";

setDefaultTimeout(180_000); // a real TUI, gw and its instance starting on a shared 2-core machine
const KEY = "sk-gw-qwen-tui-0123456789";
const QWEN = versionOf("@qwen-code/qwen-code");

const box = agentSandboxForFile(KEY, { "opus4.6": "claude-opus-4-6-thinking" });

test(`qwen ${QWEN}: a first launch answers through gw on the route it was given, with the route's window, and Ctrl-C ends it`, async () => {
  const { sb, home, work } = box;
  const pane = new TmuxPane(sb.dir);
  try {
    const { argv, env } = offlineCommand(sb, home, work, ["qwen", "-c", sb.file, "opus"], true);
    await pane.start(argv, env, work);
    const ready = await pane.waitFor("Type your message", 90_000);
    expect(ready).toContain("opus4.6 (/model to change)");
    await pane.send("-l", "Say hello");
    await pane.send("Enter");
    await pane.waitFor("Mock answer from instance a, model claude-opus-4-6-thinking.", 60_000);
    // Its footer, once the answer's usage is in: the share of the window the gateway serves.
    await pane.waitFor(/opus4\.6 · 200\.0k Context \d/, 30_000);
    await pane.send("C-c");
    await pane.waitFor("Press Ctrl+C again to exit", 30_000);
    await pane.send("C-c");
    const done = await pane.waitFor("[exit 0]", 30_000);
    // Qwen Code's own hint (`qwen --resume ID`) would leave the gateway: gw names the way back through it.
    const id = /qwen --resume ([0-9a-f-]{36})/.exec(done)?.[1];
    expect(id).toBeDefined();
    expect(done.replace(/\s*\n\s*/g, " ")).toContain(`gw run qwen: resume it through the gateway with: gw run qwen opus4.6 --resume ${id}`);
  } finally {
    await pane.kill();
  }
  const records = requestLog(sb).filter((x) => x.agent === `claude-cli/${QWEN}`);
  expect(records.length).toBeGreaterThan(0);
  for (const x of records) expect(x).toMatchObject({ request: { path: "/v1/messages", model: "opus4.6" }, routing: { route: "opus4.6" }, response: { status: 200 } });
  expect(new Set(records.map((x) => x.request.user)).size).toBe(1);
});
