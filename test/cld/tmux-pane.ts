// A private tmux server for the interactive launcher tests: a real terminal for fzf and /dev/tty.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { CldSandbox } from "../helpers/cld.ts";

/** Run `argv` in a tmux pane of the sandbox, let `drive` answer the questions, return the screen at the end. */
export async function inPane(box: CldSandbox, argv: readonly string[], env: Record<string, string>, drive: (t: TmuxPane) => Promise<void>) {
  box.clearCall();
  const pane = new TmuxPane(box.dir);
  try {
    await pane.start(argv, box.env(env));
    await drive(pane);
    const screen = await pane.waitFor(/\[exit \d+\]/);
    return { screen, window: await pane.windowName(), call: box.lastCall() };
  } finally {
    await pane.kill();
  }
}

/** A private tmux server whose one pane runs a command on a real terminal (fzf, /dev/tty). */
export class TmuxPane {
  private readonly socket: string;
  private readonly tmux: string;

  constructor(private readonly dir: string) {
    const tmux = Bun.which("tmux");
    if (!tmux) throw new Error("tmux is needed by this test (apt-get install -y tmux)");
    this.tmux = tmux;
    this.socket = join(dir, `tmux-${process.pid}-${Math.random().toString(36).slice(2, 8)}.sock`);
  }

  private async tm(args: string[], env?: Record<string, string>): Promise<string> {
    const p = Bun.spawn([this.tmux, "-S", this.socket, ...args], { env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    if (code !== 0) throw new Error(`tmux ${args[0]}: ${err.trim()}`);
    return out;
  }

  /** Start `argv` in a fresh session (in `cwd`, default this pane's dir); the pane stays open after it exits, showing `[exit N]`. */
  async start(argv: readonly string[], env: Record<string, string>, cwd = this.dir): Promise<void> {
    const quoted = argv.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
    await this.tm(["-f", "/dev/null", "new-session", "-d", "-s", "t", "-c", cwd, "-x", "160", "-y", "40", `${quoted}; echo "[exit $?]"; read x`], {
      ...env,
      SHELL: "/bin/sh",
    });
  }

  async send(...keys: string[]): Promise<void> {
    await this.tm(["send-keys", "-t", "t", ...keys]);
  }

  capture(): Promise<string> {
    return this.tm(["capture-pane", "-p", "-t", "t"]);
  }

  windowName(): Promise<string> {
    return this.tm(["display-message", "-p", "-t", "t", "#W"]).then((s) => s.trim());
  }

  /** Poll the screen until it shows `text` (or `text(screen)` holds); no fixed sleeps. */
  async waitFor(text: string | RegExp | ((screen: string) => boolean), timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    const shows = typeof text === "string" ? (s: string) => s.includes(text) : text instanceof RegExp ? (s: string) => text.test(s) : text;
    let screen = "";
    while (Date.now() < deadline) {
      screen = await this.capture();
      if (shows(screen)) return screen;
      await Bun.sleep(50);
    }
    throw new Error(`screen never showed ${text}; last screen:\n${screen}`);
  }

  /** The pane's live programs (its shell's session): pid and command name. */
  async programs(): Promise<{ pid: number; comm: string }[]> {
    const leader = Number((await this.tm(["display-message", "-p", "-t", "t", "#{pane_pid}"])).trim());
    return sessionMembers(leader).map((pid) => ({ pid, comm: readFileSync(`/proc/${pid}/comm`, "utf8").trim() }));
  }

  /**
   * Stop the server and wait until the pane's programs are gone: they get SIGHUP and may still
   * write after tmux is (Claude Code flushes its telemetry under HOME), which would make the
   * sandbox removed next appear again in the temp directory.
   */
  async kill(): Promise<void> {
    const leader = Number((await this.tm(["display-message", "-p", "-t", "t", "#{pane_pid}"]).catch(() => "")).trim());
    await this.tm(["kill-server"]).catch(() => {});
    if (leader > 0) await sessionGone(leader);
  }
}

/** Pids of the live processes of session `sid` (the pane's: its shell leads it). */
function sessionMembers(sid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const [state, , , session] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(session) === sid && state !== "Z") out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Wait until session `sid` has no live process; what is still there after 10 s is killed. */
async function sessionGone(sid: number): Promise<void> {
  const deadline = performance.now() + 10_000;
  let left = sessionMembers(sid);
  while (left.length > 0 && performance.now() < deadline) {
    await Bun.sleep(20);
    left = sessionMembers(sid);
  }
  for (const pid of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
}
