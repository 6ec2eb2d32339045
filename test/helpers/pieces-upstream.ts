// An upstream on a raw socket that writes its answer in the pieces a test names, each one read by
// the peer before the next is written — so every piece is a read of its own at the client (gw),
// as TCP and relays cut answers in the wild. Bun's fetch reads on its own thread: that it read a
// piece is seen in the kernel's socket table (/proc/net/tcp, the peer's unread bytes), and a turn
// of the event loop then lets the read reach JavaScript before the next piece can join it
// (checked: 2,000 of 2,000 pieces arrived as reads of their own at an in-process fetch).

import { readFileSync } from "node:fs";

export interface PlannedAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The body, in the pieces to write; their joint is the answer. */
  readonly pieces: readonly Uint8Array[];
  /** Sent with a Content-Length (else chunked, one HTTP chunk per piece). */
  readonly sized?: boolean;
}

export interface PiecesUpstream {
  readonly url: string;
  /** Answers requests that carry this header, by its value. */
  plan(id: string, answer: PlannedAnswer): void;
  forget(id: string): void;
  stop(): void;
}

/** The request header naming the plan an answer follows. */
export const PLAN_HEADER = "x-test-plan";

const enc = new TextEncoder();

export function piecesUpstream(fallback?: PlannedAnswer): PiecesUpstream {
  const plans = new Map<string, PlannedAnswer>();
  type Conn = { buf: Buffer; busy: boolean };
  const server = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { buf: Buffer.alloc(0), busy: false };
        s.setNoDelay(true);
      },
      data(s, chunk) {
        s.data.buf = Buffer.concat([s.data.buf, chunk]);
        void serveNext(s);
      },
      drain(s) {
        const wake = drains.get(s);
        drains.delete(s);
        wake?.();
      },
    },
  });
  const drains = new Map<unknown, () => void>();

  async function serveNext(s: Bun.Socket<Conn>): Promise<void> {
    if (s.data.busy) return;
    const req = takeRequest(s.data);
    if (!req) return;
    s.data.busy = true;
    const id = req.headers.get(PLAN_HEADER);
    const answer = (id !== null ? plans.get(id) : undefined) ?? fallback;
    if (!answer) {
      await write(s, enc.encode("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"), false);
    } else {
      const head = [`HTTP/1.1 ${answer.status} X`, ...Object.entries(answer.headers).map(([k, v]) => `${k}: ${v}`)];
      const size = answer.pieces.reduce((n, p) => n + p.byteLength, 0);
      head.push(answer.sized ? `content-length: ${size}` : "transfer-encoding: chunked");
      // The head goes with the first piece and the end of a chunked body with the last: a read
      // that joins them still hands the body's pieces on one by one.
      const pieces = answer.pieces.filter((p) => p.byteLength > 0);
      const framed = pieces.map((p) => (answer.sized ? p : Buffer.concat([enc.encode(`${p.byteLength.toString(16)}\r\n`), p, enc.encode("\r\n")])));
      framed[0] = Buffer.concat([enc.encode(`${head.join("\r\n")}\r\n\r\n`), framed[0] ?? new Uint8Array(0)]);
      if (!answer.sized) framed[framed.length - 1] = Buffer.concat([framed[framed.length - 1]!, enc.encode("0\r\n\r\n")]);
      for (const [i, bytes] of framed.entries()) await write(s, bytes, i < framed.length - 1);
    }
    s.data.busy = false;
    void serveNext(s);
  }

  /** Write all of `bytes`; with `apart`, then wait until the peer has read them (and its loop has had a turn). */
  async function write(s: Bun.Socket<Conn>, bytes: Uint8Array, apart: boolean): Promise<void> {
    let rest = bytes;
    while (rest.byteLength > 0) {
      const n = s.write(rest);
      if (n < 0) return; // closed
      rest = rest.subarray(n);
      if (rest.byteLength > 0) await new Promise<void>((r) => drains.set(s, r));
    }
    if (apart) await peerHasRead(server.port, s.remotePort);
  }

  return {
    url: `http://127.0.0.1:${server.port}`,
    plan: (id, a) => void plans.set(id, a),
    forget: (id) => void plans.delete(id),
    stop: () => server.stop(true),
  };
}

/** One request off the connection's buffer: its headers (the body is read past and dropped). */
function takeRequest(c: { buf: Buffer }): { headers: Headers } | undefined {
  const end = c.buf.indexOf("\r\n\r\n");
  if (end === -1) return undefined;
  const lines = c.buf.subarray(0, end).toString("latin1").split("\r\n").slice(1);
  const headers = new Headers();
  for (const l of lines) {
    const i = l.indexOf(":");
    if (i > 0) headers.append(l.slice(0, i).trim(), l.slice(i + 1).trim());
  }
  const length = Number(headers.get("content-length") ?? 0);
  if (headers.get("transfer-encoding")?.includes("chunked")) throw new Error("pieces upstream: chunked requests are not read");
  if (c.buf.byteLength < end + 4 + length) return undefined;
  c.buf = c.buf.subarray(end + 4 + length);
  return { headers };
}

/**
 * Until the peer has read what we wrote to it: its unread bytes in the socket table are none. On
 * loopback a write lands in the peer's queue before it returns (our own unacknowledged count is no
 * help: a delayed ACK holds it for 40 ms after the peer read). Then one turn of the event loop,
 * for a peer in this process to take the read. Each look costs about a millisecond (the kernel
 * walks its whole table): the reason to write only the pieces a test asks for.
 */
async function peerHasRead(ourPort: number, peerPort: number): Promise<void> {
  const theirs = `0100007F:${hex4(peerPort)} 0100007F:${hex4(ourPort)}`;
  for (let spins = 0; ; spins++) {
    await new Promise((r) => setImmediate(r));
    if (unread(readFileSync("/proc/net/tcp", "latin1"), theirs) === 0) break;
    if (spins > 10_000) throw new Error("pieces upstream: the peer never read its bytes");
  }
  await new Promise((r) => setImmediate(r));
}

const hex4 = (n: number) => n.toString(16).toUpperCase().padStart(4, "0");

/** The unread bytes (rx queue) of the socket whose `local remote` addresses are `pair`; 0 when it is gone. */
function unread(table: string, pair: string): number {
  const at = table.indexOf(pair);
  if (at === -1) return 0;
  // `local remote st tx:rx …`
  const fields = table.slice(at + pair.length, table.indexOf("\n", at)).trim().split(/\s+/);
  return parseInt(fields[1]!.split(":")[1]!, 16);
}
