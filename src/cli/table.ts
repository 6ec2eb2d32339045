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

/** The widest line of `text`, in the columns a terminal shows (a CJK character or an emoji takes two; colour codes none). */
export const widestLine = (text: string) => Math.max(0, ...text.split("\n").map((l) => Bun.stringWidth(l)));

/** `s` padded with spaces to `width` columns as a terminal shows them: at its end (aligned left), or at its start. */
export function pad(s: string, width: number, at: "end" | "start" = "end"): string {
  const fill = " ".repeat(Math.max(0, width - Bun.stringWidth(s)));
  return at === "end" ? s + fill : fill + s;
}

/**
 * Rows as lines of columns two spaces apart, each column as wide as its widest cell is shown;
 * `right(i)`: column i aligned right. The last column is not padded (nothing follows it).
 */
export function columns(rows: readonly (readonly string[])[], right: (i: number) => boolean = () => false): { lines: string[]; widths: number[] } {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => Bun.stringWidth(row[i]!))));
  const last = widths.length - 1;
  const lines = rows.map((row) => row.map((c, i) => (right(i) ? pad(c, widths[i]!, "start") : i === last ? c : pad(c, widths[i]!))).join("  ").trimEnd());
  return { lines, widths };
}

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
