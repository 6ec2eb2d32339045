// Questions go to the controlling terminal (/dev/tty), never through process.stdin: stdin
// belongs to claude after the hand-over (and may be a piped prompt that must stay unread).
import { closeSync, openSync, readSync, writeSync } from "node:fs";

export interface Terminal {
  /** The terminal itself (/dev/tty, open for reading and writing), for a child that draws on it. */
  readonly fd: number;
  write(text: string): void;
  /** One line without its newline; null at end of input (Ctrl-D). */
  readLine(): string | null;
  close(): void;
}

export function openTerminal(): Terminal | null {
  let fd: number;
  try {
    fd = openSync("/dev/tty", "r+");
  } catch {
    return null; // no controlling terminal: a script, a service, a CI job
  }
  return {
    fd,
    write: (text) => void writeSync(fd, text),
    readLine() {
      // Canonical mode hands us a whole line per read; loop only for very long lines.
      const buf = Buffer.alloc(4096);
      let line = "";
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) return line === "" ? null : line;
        line += buf.toString("utf8", 0, n);
        if (line.endsWith("\n")) return line.replace(/\r?\n$/, "");
      }
    },
    close: () => closeSync(fd),
  };
}

export function hasTerminal(): boolean {
  const t = openTerminal();
  t?.close();
  return t !== null;
}

/** Yes/no question on the terminal, no on an empty answer; null when there is no terminal. */
export function confirm(question: string): boolean | null {
  const t = openTerminal();
  if (!t) return null;
  try {
    t.write(`${question} [y/N] `);
    const answer = t.readLine()?.trim().toLowerCase();
    return answer?.startsWith("y") ?? false;
  } finally {
    t.close();
  }
}
