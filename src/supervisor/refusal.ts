// A gw's refusal read back from its output. A gw started in the background (gw up -d, daemon.ts)
// refuses as any gw does — main.ts prints `gw: MESSAGE` and its fix indented below — but into
// gw.log: the starting command finds it there, to say it where a foreground gw would, and in JSON.

export interface Refusal {
  readonly problem: string;
  readonly hint?: string;
}

/** The last refusal among `lines` (a gw's own output, not its logger's), its indented fix as the hint. */
export function lastRefusal(lines: readonly string[]): Refusal | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i]!.startsWith(PREFIX)) continue;
    const fix: string[] = [];
    for (let k = i + 1; k < lines.length && /^\s+\S/.test(lines[k]!); k++) fix.push(lines[k]!.trim());
    const problem = lines[i]!.slice(PREFIX.length);
    return fix.length ? { problem, hint: fix.join(" ") } : { problem };
  }
  return undefined;
}

const PREFIX = "gw: ";
