// One question with a short list of answers: fzf when it is installed, else a numbered list on
// the terminal. Esc (or an empty answer) means "same as last time".
import { CliError } from "../cli/errors.ts";
import { pad } from "../cli/table.ts";
import { openTerminal, type Terminal } from "./tty.ts";

interface Choice {
  readonly key: string;
  /** Shown beside the key (e.g. a scenario's roles). */
  readonly detail?: string;
}

interface PickOptions {
  readonly title: string;
  readonly choices: readonly Choice[];
  /** Returned on Esc / empty answer. */
  readonly last?: string;
  /** PATH to find fzf on (defaults to the process's). */
  readonly path?: string;
  /** With no terminal to ask on: how to name the answer on the command line (default: cld's). */
  readonly hint?: string;
}

interface Picked {
  readonly key: string;
  /** True when the user pressed Esc (or gave no answer) and the last value was taken. */
  readonly reused: boolean;
}

/** The chosen key; the remembered one on Esc; null when Esc left nothing to reuse. */
export async function pick(o: PickOptions): Promise<Picked | null> {
  const term = openTerminal();
  if (!term) {
    throw new CliError(`no terminal to ask "${o.title}" on`, 1, o.hint ?? "name what you want: cld cp FILTER … (or cld ag / cld official)");
  }
  try {
    const fzf = Bun.which("fzf", o.path === undefined ? undefined : { PATH: o.path });
    const viaFzf = fzf ? await pickWithFzf(fzf, o, term) : "unavailable";
    const answer = viaFzf === "unavailable" ? pickNumbered(term, o) : viaFzf;
    if (answer !== undefined) return { key: answer, reused: false };
    return o.last ? { key: o.last, reused: true } : null;
  } finally {
    term.close();
  }
}

function lineOf(c: Choice, width: number, last: string | undefined): string {
  const mark = c.key === last ? "  (last)" : "";
  return `${pad(c.key, width)}  ${c.detail ?? ""}${mark}`.trimEnd();
}

const widthOf = (cs: readonly Choice[]) => Math.max(...cs.map((c) => Bun.stringWidth(c.key)));

/**
 * Options fzf 0.38 (Debian 12) understands; the index column keeps keys with spaces exact.
 * `--expect esc` tells Esc (reuse the last value) apart from Ctrl-C (quit), which both exit 130 otherwise.
 * With no query fzf keeps the menu's order; with one it ranks the matches (`--tiebreak begin,index`),
 * so a typed name comes first: `--no-sort` would leave an earlier line that matches it only loosely
 * through its detail (typing "gemini" in the agent menu, then Enter, started Claude Code).
 */
async function pickWithFzf(fzf: string, o: PickOptions, term: Terminal): Promise<string | undefined | "unavailable"> {
  const w = widthOf(o.choices);
  const header = o.last ? `Esc: ${o.last} (last)` : "Esc: cancel";
  // fzf draws on its stderr: the terminal, whatever cld's stderr is (2>/dev/null hid the menu; a
  // pipe that closed killed fzf and left the terminal raw).
  const proc = Bun.spawn(
    [fzf, "--prompt", `${o.title}> `, "--header", header, "--height", "40%", "--reverse", "--tiebreak", "begin,index", "--no-multi",
      "--delimiter", "\t", "--with-nth", "2..", "--expect", "esc"],
    { stdin: "pipe", stdout: "pipe", stderr: term.fd },
  );
  // cld stopped by a signal takes its menu with it: a menu left behind ate the shell's next keys.
  const leave = (signal: NodeJS.Signals) => {
    proc.kill();
    process.exit(128 + (signal === "SIGHUP" ? 1 : 15));
  };
  for (const signal of MENU_SIGNALS) process.once(signal, leave);
  proc.stdin.write(o.choices.map((c, i) => `${i}\t${lineOf(c, w, o.last)}\n`).join(""));
  await proc.stdin.end();
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]).finally(() => {
    for (const signal of MENU_SIGNALS) process.off(signal, leave);
  });
  if (code === 130) throw new CliError("cancelled", 130);
  if (code === 1) return undefined; // Enter on an empty match: same as Esc
  if (code !== 0) return "unavailable";
  const [key, line = ""] = out.split("\n");
  return key === "esc" ? undefined : o.choices[Number(line.split("\t")[0])]?.key;
}

const MENU_SIGNALS = ["SIGTERM", "SIGHUP"] as const;

const MAX_TRIES = 3;

function pickNumbered(t: Terminal, o: PickOptions): string | undefined {
  const w = widthOf(o.choices);
  t.write(`${o.title}:\n`);
  o.choices.forEach((c, i) => t.write(`  ${String(i + 1).padStart(2)}) ${lineOf(c, w, o.last)}\n`));
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    t.write(`Pick 1-${o.choices.length}${o.last ? ` [Enter: ${o.last}]` : ""}: `);
    const line = t.readLine();
    if (line === null) return undefined;
    const answer = line.trim();
    if (answer === "") return undefined;
    const n = Number(answer);
    const byNumber = Number.isInteger(n) ? o.choices[n - 1] : undefined;
    const byName = o.choices.find((c) => c.key.toLowerCase() === answer.toLowerCase())
      ?? o.choices.find((c) => c.key.toLowerCase().startsWith(answer.toLowerCase()));
    const chosen = byNumber ?? byName;
    if (chosen) return chosen.key;
    t.write(`  "${answer}" is not one of them\n`);
  }
  return undefined;
}
