// Tables on a narrow terminal (a split pane, ssh from a phone): a row wider than the terminal
// wraps over several lines and the columns stop lining up, so there each row becomes a block.
import { isTerminal } from "./stdio.ts";

/**
 * Columns of stdout's terminal; none (Infinity) for a pipe or a file, which get the full table.
 * stdout's stream is made only for a terminal (its columns): for a pipe it would load node:stream
 * for nothing (cli/stdio.ts).
 */
export function terminalWidth(): number {
  return isTerminal(1) && process.stdout.columns ? process.stdout.columns : Infinity;
}

/** The widest line of `text`. */
export const widestLine = (text: string) => Math.max(0, ...text.split("\n").map((l) => Bun.stripANSI(l).length));

/**
 * Each row as a block: its first cell on a line, then `header value` pairs filling `width`
 * (a pair wider than that gets a line of its own).
 */
export function stackedRows(header: readonly string[], rows: readonly (readonly string[])[], width: number): string {
  return rows
    .map((row) => {
      const lines = [row[0]!];
      let line = "";
      for (let i = 1; i < row.length; i++) {
        const pair = `${header[i]} ${row[i]}`;
        if (line && 2 + line.length + 2 + pair.length > width) {
          lines.push(`  ${line}`);
          line = pair;
        } else line = line ? `${line}  ${pair}` : pair;
      }
      if (line) lines.push(`  ${line}`);
      return lines.join("\n");
    })
    .join("\n");
}
