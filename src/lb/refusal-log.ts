// Client-key refusals in gw's log, by address: a refusal has no request-log record (it is only
// counted, gw_refused_total), so without this an admin could see 401s climb and never learn which
// machine sends the stale key. One line for an address's first refusal, then at most one a minute
// with how many came since — a client retrying every second must not flood gw.log.
import { maskSecret } from "../observe/mask.ts";
import type { ProbeLog } from "./probe.ts";

/** One line per address at most this often. */
export const REFUSAL_LINE_EVERY_MS = 60_000;
/** Addresses remembered; the oldest is forgotten past this (a scan from many machines stays bounded). */
const MAX_ADDRESSES = 1_000;

interface Seen {
  said: number;
  since: number;
}

export class RefusalLog {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly log: Pick<ProbeLog, "warn">,
    private readonly now: () => number = Date.now,
  ) {}

  /** A request from `address` was refused for its key (`presented`: none, or the wrong one). */
  keyRefused(address: string | undefined, presented: string | undefined): void {
    const at = this.now();
    const where = address ?? "an unknown address";
    const s = this.seen.get(where);
    if (s && at - s.said < REFUSAL_LINE_EVERY_MS) {
      s.since++;
      return;
    }
    const what = presented ? `a wrong client key (${printable(maskSecret(presented))})` : "no client key";
    const more = s && s.since > 0 ? `; ${s.since + 1} refusals from it since the last such line` : "";
    this.log.warn(`refused a request from ${where} with ${what}${more}`);
    this.seen.delete(where); // re-inserted last: the map's order is the forgetting order
    this.seen.set(where, { said: at, since: 0 });
    if (this.seen.size > MAX_ADDRESSES) this.seen.delete(this.seen.keys().next().value!);
  }
}

/** The masked key is the client's text: no control character may break the log line. */
const printable = (s: string) => s.replace(/[^\x20-\x7e…]/g, "?");
