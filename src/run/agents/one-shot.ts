// Which runs of an agent answer and exit (a prompt flag, a command such as `codex exec`), as
// opposed to a session in the terminal: those leave the window's title alone (types.ts oneShot).

interface OneShotRule {
  /** Flags that make a run answer and exit (`-p`, `--prompt`). */
  readonly flags?: readonly string[];
  /** The agent's commands: one first among its arguments is a run that exits… */
  readonly commands?: readonly string[];
  /** …except these, which open a session (`codex resume`). */
  readonly sessions?: readonly string[];
}

export function oneShotBy(rule: OneShotRule): (args: readonly string[]) => boolean {
  return (args) => {
    const end = args.indexOf("--");
    const own = end < 0 ? args : args.slice(0, end);
    if (own.some((a) => rule.flags?.includes(a.split("=")[0]!))) return true;
    const first = own.find((a) => !a.startsWith("-"));
    return first !== undefined && (rule.commands ?? []).includes(first) && !(rule.sessions ?? []).includes(first);
  };
}
