// opencode's own interface on a real terminal (a tmux pane), started by `gw run opencode ROUTE`
// with a fresh HOME in a network namespace that has only loopback (offline.ts): a first launch
// reaches an answer with no question or dead end on the way — the prompt typed, the gateway's
// answer on the screen, the route as the model in its prompt line — and Ctrl-C ends it with
// opencode's own exit code, gw naming the session to resume through the gateway.
import { expect, setDefaultTimeout, test } from "bun:test";
import { TmuxPane } from "../cld/tmux-pane.ts";
import { agentSandboxForFile, offlineCommand, requestLog, versionOf } from "./offline.ts";

setDefaultTimeout(180_000); // a real TUI, gw and its instance starting on a shared 2-core machine
const KEY = "sk-gw-opencode-tui-0123456789";
const OPENCODE = versionOf("opencode-ai");

const box = agentSandboxForFile(KEY, { "opus4.6": "claude-opus-4-6-thinking" });

test(`opencode ${OPENCODE}: a first launch answers through gw on the route it was given, and Ctrl-C ends it`, async () => {
  const { sb, home, work } = box;
  const pane = new TmuxPane(sb.dir);
  try {
    const { argv, env } = offlineCommand(sb, home, work, ["opencode", "-c", sb.file, "opus"], true);
    await pane.start(argv, env, work);
    const ready = await pane.waitFor("Ask anything", 90_000);
    expect(ready).toMatch(/Build · ?opus4\.6 +gw/);
    await pane.send("-l", "Say hello");
    await pane.send("Enter");
    await pane.waitFor("Mock answer from instance a, model claude-opus-4-6-thinking.", 60_000);
    await pane.send("C-c");
    const done = await pane.waitFor("[exit 0]", 30_000);
    // opencode's own hint (`opencode -s ID`) would leave the gateway: gw names the way back through it.
    const id = /opencode -s (ses_\w+)/.exec(done)?.[1];
    expect(id).toBeDefined();
    expect(done.replace(/\s*\n\s*/g, " ")).toContain(`gw run opencode: resume it through the gateway with: gw run opencode opus4.6 -s ${id}`);
  } finally {
    await pane.kill();
  }
  const records = requestLog(sb).filter((x) => x.agent === `opencode/${OPENCODE}`);
  expect(records.length).toBeGreaterThan(0);
  // The answer on the route; the title on the small route (cld's fast tier for it: here the cheapest, m).
  for (const x of records) {
    expect(x).toMatchObject({ request: { path: "/v1/messages" }, response: { status: 200 } });
    expect(x.routing.route).toBeOneOf(["opus4.6", "m"]);
  }
  expect(records.map((x) => x.routing.route)).toContain("opus4.6");
});
