// The tmux helper the interactive tests drive: when it has stopped a pane, nothing of the pane
// runs any more — a program that writes on its way out (Claude Code flushes its telemetry under
// HOME on SIGHUP) must not do so into a sandbox the test removes next.
import { afterAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CldSandbox, removeSandboxes } from "../helpers/cld.ts";
import { TmuxPane } from "./tmux-pane.ts";

afterAll(removeSandboxes);

test("kill() returns once the pane's programs have ended, however long they take to leave", async () => {
  const box = new CldSandbox({ noClaude: true, tools: ["tmux"] });
  const late = join(box.dir, "written-on-the-way-out");
  const pane = new TmuxPane(box.dir);
  // On SIGHUP the program takes a moment before its last write, as a real one flushing its files does.
  const [sh, sleep, touch] = ["sh", "sleep", "touch"].map((c) => Bun.which(c) ?? c) as [string, string, string];
  await pane.start([sh, "-c", `trap '${sleep} 0.5; ${touch} ${late}; exit 0' HUP; echo ready; while :; do ${sleep} 0.05; done`], box.env({}));
  await pane.waitFor("ready");
  await pane.kill();
  expect(existsSync(late)).toBe(true);
});
