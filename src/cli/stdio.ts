// gw's standard streams without their start-up cost. Touching process.stdout or process.stderr
// builds a Node stream, and node:tty's isatty loads Node's stream modules: ~10 ms of a 17 ms
// `gw --version` in a compiled binary (bench/startup.ts). Asking whether fd 1 or 2 is a terminal,
// and most commands' output (console.log), need no stream: the streams are made when first used.

type Env = Record<string, string | undefined>;

/** Colour only on a terminal, and never when NO_COLOR is set (any value, as no-color.org says). */
export function useColor(fd: 1 | 2, env: Env = process.env): boolean {
  return isTerminal(fd) && !env.NO_COLOR && env.TERM !== "dumb";
}

/** Whether `fd` is a terminal, as process.stdout.isTTY says, without making the stream. */
export function isTerminal(fd: 0 | 1 | 2): boolean {
  return ttyBinding()?.(fd) ?? (require("node:tty") as typeof import("node:tty")).isatty(fd);
}

/**
 * Bun's own isatty behind node:tty (`process.binding("tty_wrap").isTTY`), reached without loading
 * node:tty's streams; undefined where a Bun does not have it (node:tty then answers, as before).
 */
function ttyBinding(): ((fd: number) => boolean) | undefined {
  try {
    const isTTY = (process.binding("tty_wrap") as { isTTY?: unknown }).isTTY;
    return typeof isTTY === "function" ? (fd) => isTTY(fd) === true : undefined;
  } catch {
    return undefined;
  }
}

/**
 * console.error without colour, as util.format writes it, for a stderr that is no colour terminal
 * (a pipe, a file, NO_COLOR, TERM=dumb). Written to fd 2 at once, as Bun's console.error is, not
 * through process.stderr, and plain strings are not formatted: node:stream and util.inspect took
 * ~10 ms of every `gw check` and refusal read by a script (bench/startup.ts).
 */
export function plainError(...args: unknown[]): void {
  writeAll(2, Buffer.from(`${plainText(args)}\n`));
}

/** `args` as util.format writes them without colour; strings without a % directive need no node:util (util.inspect: ~3 ms to load). */
export function plainText(args: readonly unknown[]): string {
  const first = args[0];
  if (args.every((a) => typeof a === "string") && !(typeof first === "string" && first.includes("%"))) return args.join(" ");
  return (require("node:util") as typeof import("node:util")).formatWithOptions({ colors: false }, ...args);
}

/**
 * Every byte to `fd`, or the rest through its stream when the descriptor is non-blocking and full
 * (EAGAIN: a parent set O_NONBLOCK on the pipe). A reader gone (EPIPE) leaves nobody to tell.
 */
function writeAll(fd: 2, bytes: Buffer): void {
  let done = 0;
  try {
    const { writeSync } = require("node:fs") as typeof import("node:fs"); // not at every start: ~2 ms
    while (done < bytes.length) done += writeSync(fd, bytes, done);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EAGAIN") process.stderr.write(bytes.subarray(done));
    else if (code !== "EPIPE") throw e;
  }
}

let guarded = false;

/**
 * process.stdout, for output that must end when its reader goes away (`gw logs -f | head -1`):
 * Bun's console.log drops a write to a closed pipe without an error, so a command following a log
 * ran for ever. Its EPIPE ends gw, as a program ended by SIGPIPE would be, but with exit 0, so a
 * `set -o pipefail` script that stopped reading on purpose does not fail.
 */
export function pipedStdout(): NodeJS.WriteStream {
  if (!guarded) {
    guarded = true;
    process.stdout.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw err;
      process.exit(0);
    });
  }
  return process.stdout;
}
