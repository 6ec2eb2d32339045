// One line of progress on a terminal for work that may take seconds (gw usage over a year of
// request logs). Silent for its first second, so a quick run prints nothing; never on a pipe, a
// file or a dumb terminal, where a carriage return would only garble the output.

type Env = Record<string, string | undefined>;

interface ProgressLine {
  /** Show `text` as the current state (at most every `everyMs`). */
  show(text: string): void;
  /** Clear the line, if anything was shown. */
  end(): void;
}

interface ProgressOptions {
  readonly env?: Env;
  readonly afterMs?: number;
  readonly everyMs?: number;
  readonly now?: () => number;
}

export function progressLine(stream: { isTTY?: boolean; write(text: string): unknown } = process.stderr, o: ProgressOptions = {}): ProgressLine {
  const env = o.env ?? process.env;
  if (stream.isTTY !== true || env.TERM === "dumb") return { show() {}, end() {} };
  const now = o.now ?? (() => performance.now());
  const everyMs = o.everyMs ?? 100;
  let next = now() + (o.afterMs ?? 1000);
  let shown = false;
  return {
    show(text) {
      const t = now();
      if (t < next) return;
      next = t + everyMs;
      shown = true;
      stream.write(`\r${text}\x1b[K`);
    },
    end() {
      if (shown) stream.write("\r\x1b[K");
      shown = false;
    },
  };
}
