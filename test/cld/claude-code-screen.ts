// Claude Code's interactive screen as the tmux tests read it: its prompt, and typing a line at it.
import type { TmuxPane } from "./tmux-pane.ts";

/** Claude Code's prompt: `❯` and a (non-breaking) space at the start of a line. */
export const PROMPT = /^❯\s/m;
/** The last prompt line, i.e. what is typed but not yet sent. */
const typed = (screen: string) => screen.split("\n").filter((l) => l.startsWith("❯")).at(-1)?.slice(1).trim();

/** Type `text` at Claude Code's prompt and press Enter until `effect` shows (an Enter sent while it is still starting up can be lost). */
export async function submit(t: TmuxPane, text: string, effect: string | RegExp | ((screen: string) => boolean), timeoutMs = 60_000): Promise<string> {
  await t.send("-l", text);
  await t.waitFor((s) => typed(s) === text);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await t.send("Enter");
    try {
      return await t.waitFor(effect, Math.min(10_000, deadline - Date.now()));
    } catch (e) {
      if (Date.now() >= deadline || typed(await t.capture()) !== text) throw e;
    }
  }
}
