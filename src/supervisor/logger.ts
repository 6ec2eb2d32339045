// gw's own log: consola with a plain reporter — timestamped lines appended to logs/gw.log, and
// the bare message on the terminal when there is one (a detached gw has only the file).
import { closeSync, fstatSync } from "node:fs";
import { createConsola, type LogObject } from "consola";
import { pipedStdout, plainText } from "../cli/stdio.ts";
import { appendWholeSync } from "../fs/append-whole.ts";
import { openPrivateAppend } from "../fs/private.ts";
import { fsWhy, writeProblem } from "../fs/why.ts";

interface GwLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** An error line for gw.log alone: the terminal hears it another way (the refusal gw ends with). */
  record(msg: string): void;
  /** gw.log while it cannot be written, as one line (fs/why.ts writeProblem); undefined while it can. */
  problem(): string | undefined;
  close(): Promise<void>;
}

const text = (o: LogObject) => plainText(o.args);

export function createGwLogger(opts: { file: string; terminal: boolean }): GwLogger {
  // Written synchronously: these lines are rare (supervisor events, never per request), must not
  // be lost in a buffer when gw is killed, and `up -d` reads them back to show progress.
  const file = fileLines(opts.file);
  const consola = createConsola({
    level: 3,
    throttle: 0, // every restart line counts; consola would fold repeats into "[repeated N times]"
    reporters: [
      {
        log(o) {
          const message = text(o);
          file.write(o.date, o.type.toUpperCase(), message);
          if (!opts.terminal) return;
          (o.level <= 1 ? process.stderr : pipedStdout()).write(`${message}\n`);
        },
      },
    ],
  });
  return {
    info: (m) => consola.info(m),
    warn: (m) => consola.warn(m),
    error: (m) => consola.error(m),
    record: (m) => file.write(new Date(), "ERROR", m),
    problem: () => file.problem(),
    async close() {
      file.close();
    },
  };
}

/**
 * A gw.log line's message and the pid of the gw that logged it. None for what a process printed
 * itself (a refusal on its way out, a crash) or a line of a gw from before lines said their pid.
 */
export function logLineParts(line: string): { pid?: number; message: string } {
  const m = /^\S+Z (?:\[(\d+)\] )?[A-Z ]{5} /.exec(line);
  if (!m) return { message: line };
  return { ...(m[1] ? { pid: Number(m[1]) } : {}), message: line.slice(m[0].length) };
}

/**
 * gw.log's lines, written so that a line the file cannot take (disk full, I/O error) is counted
 * instead of thrown: log calls sit in the middle of the supervisor's steps — between spawning an
 * instance and watching it — and a throw there left a restarted instance running unwatched. The
 * first line the file takes again says how many were lost, and why. A gw.log someone deleted
 * (`rm -rf logs/` while gw runs) is made again at the next line rather than written unseen.
 */
function fileLines(file: string) {
  let fd: number | undefined = openPrivateAppend(file);
  let lost = 0;
  let why: unknown;
  // The pid tells the gws apart in the file they share while one hands over to the next — on every
  // line of a message: a continuation line without it was taken for the successor's own (daemon.ts
  // waitServing shows the lines of every pid but its own), and `gw logs` shows where each came from.
  const line = (at: Date, level: string, msg: string) => {
    const prefix = `${at.toISOString()} [${process.pid}] ${level.padEnd(5)} `;
    return `${msg.split("\n").map((l) => prefix + l).join("\n")}\n`;
  };
  /** The count of lost lines first, if any, then `next`'s line; one that fails is counted instead. */
  const put = (at: Date, next?: () => string): void => {
    if (fd === undefined) return;
    try {
      if (fstatSync(fd).nlink === 0) {
        const old = fd;
        fd = openPrivateAppend(file);
        closeSync(old);
      }
      if (lost) {
        appendWholeSync(fd, line(at, "WARN", `${lost} line(s) could not be written to this log (${fsWhy(why) ?? (why as NodeJS.ErrnoException).code ?? String(why)})`));
        lost = 0;
      }
      if (next) appendWholeSync(fd, next()); // all or nothing: a full disk takes part of a line
    } catch (e) {
      if (next || !lost) lost++;
      why = e;
    }
  };
  return {
    write(at: Date, level: string, msg: string): void {
      put(at, () => line(at, level, msg));
    },
    /** While lines are lost, asking tries the "lost" line: with room back the problem ends now, not at a next line an idle gw may not have. */
    problem(): string | undefined {
      if (lost) put(new Date());
      return lost ? writeProblem(file, why) : undefined;
    },
    close(): void {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
