// How much of an upstream's headers a client can take. Node's HTTP parser refuses an answer
// whose header section passes 16 KiB (--max-http-header-size): one 20 KB header from a relay and
// the Anthropic SDK (Claude Code) said "Connection error." for a 200 gw logged as a success; at
// 1 MB curl ran out of memory. gw passes on the headers that fit, those clients read first.

import type { HeaderMap } from "./headers.ts";
import type { ProbeLog } from "./probe.ts";

/** Longest header passed on (name, value, ": " and CRLF): none a client reads comes near it. */
export const HEADER_MAX_BYTES = 8 * 1024;
/**
 * Most bytes of the upstream's headers passed on: below Node's 16 KiB with room for the status
 * line and gw's own (x-gw-*, at most ~1.2 KB; CSP, nosniff, Date, the length).
 */
export const HEADERS_MAX_BYTES = 12 * 1024;

/** A header's size as sent. */
export const headerBytes = (name: string, value: string): number => name.length + value.length + 4;

/** Told which headers an answer's client was not given ("name (N bytes)"). */
export type HeadersDropped = (dropped: readonly string[]) => void;

/**
 * `h` within the bounds: first the headers clients read (the body's type and coding, request
 * ids, rate limits, when to retry), then the others in the upstream's order, each that fits;
 * one over HEADER_MAX_BYTES never.
 */
export function fitHeaders(h: HeaderMap, dropped: HeadersDropped | undefined): HeaderMap {
  const fit: HeaderMap = {};
  const out: string[] = [];
  let size = 0;
  const names = Object.keys(h);
  for (const name of [...names.filter(readByClients), ...names.filter((n) => !readByClients(n))]) {
    const value = h[name]!;
    const n = headerBytes(name, value);
    if (n > HEADER_MAX_BYTES || size + n > HEADERS_MAX_BYTES) out.push(`${name} (${n} bytes)`);
    else {
      fit[name] = value;
      size += n;
    }
  }
  dropped?.(out);
  return fit;
}

/** What gw.log says of the headers an instance's answers lost: once per instance, not per request. */
export class DroppedHeadersLog {
  private readonly said = new Set<string>();

  constructor(private readonly log: Pick<ProbeLog, "warn">) {}

  dropped(instance: string, names: readonly string[], mask: (s: string) => string): void {
    if (this.said.has(instance)) return;
    this.said.add(instance);
    const shown = names.slice(0, SHOWN).join(", ") + (names.length > SHOWN ? ` and ${names.length - SHOWN} more` : "");
    this.log.warn(
      mask(`instance "${instance}" answered with headers too large for clients (Node refuses more than 16 KB of them): gw passed its answer on without ${shown}; said once per instance until gw restarts`),
    );
  }
}

// --- internal ---

const SHOWN = 5;

/** What SDKs and clients read of an answer's headers. */
function readByClients(name: string): boolean {
  return name.startsWith("content-") || name.endsWith("request-id") || name.includes("ratelimit") || name.startsWith("retry-after") || name === "x-should-retry";
}
