// Terminal title, so a wall of tmux windows shows which one runs which model.
import type { Env } from "./memory.ts";
import { openTerminal } from "./tty.ts";

const ESC = "\x1b";
const BEL = "\x07";

export function setTitle(title: string, env: Env): void {
  const term = openTerminal(); // not stdout: `cld cp x -p … > out.txt` must stay clean
  if (!term) return;
  try {
    if (env.TMUX) {
      // Window names are what tmux shows; OSC 2 sets the pane title (and the outer title via set-titles).
      const target = env.TMUX_PANE ? ["-t", env.TMUX_PANE] : [];
      Bun.spawnSync(["tmux", "rename-window", ...target, "--", title], { stdout: "ignore", stderr: "ignore", env: { ...env } });
      term.write(`${ESC}]2;${title}${BEL}`);
    } else {
      term.write(`${ESC}]0;${title}${BEL}`);
    }
  } catch {
    // a title is cosmetic; never fail a launch over it
  } finally {
    term.close();
  }
}
