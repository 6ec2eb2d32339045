// gw's own log: consola with a plain reporter — timestamped lines appended to logs/gw.log, and
// the bare message on the terminal when there is one (a detached gw has only the file).
import { closeSync, writeSync } from "node:fs";
import { createConsola, type ConsolaInstance, type LogObject } from "consola";
import { formatWithOptions } from "node:util";
import { openPrivateAppend } from "../fs/private.ts";

export interface GwLogger {
  readonly consola: ConsolaInstance;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  close(): Promise<void>;
}

const text = (o: LogObject) => formatWithOptions({ colors: false }, ...o.args);

export function createGwLogger(opts: { file: string; terminal: boolean }): GwLogger {
  // Written synchronously: these lines are rare (supervisor events, never per request), must not
  // be lost in a buffer when gw is killed, and `up -d` reads them back to show progress.
  const fd = openPrivateAppend(opts.file);
  let open = true;
  const consola = createConsola({
    level: 3,
    throttle: 0, // every restart line counts; consola would fold repeats into "[repeated N times]"
    reporters: [
      {
        log(o) {
          if (open) writeSync(fd, `${o.date.toISOString()} ${o.type.toUpperCase().padEnd(5)} ${text(o)}\n`);
          if (!opts.terminal) return;
          (o.level <= 1 ? process.stderr : process.stdout).write(`${text(o)}\n`);
        },
      },
    ],
  });
  return {
    consola,
    info: (m) => consola.info(m),
    warn: (m) => consola.warn(m),
    error: (m) => consola.error(m),
    async close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** Strip the timestamp and level a gw.log line starts with (for `up -d` progress). */
export const stripLogPrefix = (line: string) => line.replace(/^\S+Z [A-Z ]{5} /, "");
