// A file a full disk refused while gw serves — the state file, gw's pid file, its registry entry —
// is written again once there is room: tried every RETRY_MS, quietly, until it is; and at once
// when someone asks (gw status, the status page, /metrics) while its disk has room, so that the
// answer is true when given, not up to RETRY_MS later. gw.log and the request log end their
// trouble when asked in the same way (supervisor/logger.ts, observe/requestlog.ts).
import { dirname } from "node:path";
import { noRoomIn } from "./why.ts";

/** How often a refused file is tried while nobody asks. */
const RETRY_MS = 5_000;

export interface Rewrite {
  /** Someone asks for the file's trouble: with room on its disk, it is tried now. */
  ask(): void;
  /** No more tries (gw stops, or hands over to a successor whose file it then is). */
  stop(): void;
}

interface RewriteOptions {
  /** One try; true once nothing is left to try (written, or given up). A throw counts as false: tried again. */
  readonly write: () => boolean;
  /** The file: an ask tries it only when its disk has room (a full one would refuse again). */
  readonly file: string;
  /** Called once, after the try that ended it. */
  readonly written?: () => void;
  /** While true, neither the timer nor an ask tries (gw stops or hands over). */
  readonly idle?: () => boolean;
  /** The timer's interval (tests). */
  readonly everyMs?: number;
}

/** Try `o.write` every RETRY_MS, and at each ask with room, until it returns true. */
export function rewriteUntilDone(o: RewriteOptions): Rewrite {
  let over = false;
  const attempt = () => {
    if (over || o.idle?.()) return;
    let done = false;
    try {
      done = o.write();
    } catch {}
    if (!done) return;
    stop();
    o.written?.();
  };
  const timer = setInterval(attempt, o.everyMs ?? RETRY_MS);
  const stop = () => {
    over = true;
    clearInterval(timer);
  };
  return {
    ask() {
      if (!over && !noRoomIn(dirname(o.file))) attempt();
    },
    stop,
  };
}
