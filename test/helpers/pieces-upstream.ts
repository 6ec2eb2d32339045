// An upstream on a raw socket that writes its answer in the pieces a test names, each one read by
// the peer before the next is written — so every piece is a read of its own at the client (gw),
// as TCP and relays cut answers in the wild. Bun's fetch reads on its own thread: that it read a
// piece is seen in the kernel's socket table (the peer socket's received and unread bytes), and a
// few turns of the event loop then let the read reach JavaScript before the next piece can join it
// (checked: 1,997 to 1,999 of 2,000 answers in 10 pieces came as 10 reads at an in-process fetch; a join
// only repeats another chunking). Linux only.

import { dlopen, FFIType, ptr } from "bun:ffi";

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
  /** `sent`: the bytes written to the peer on this connection so far. */
  type Conn = { buf: Buffer; busy: boolean; sent: number };
  const server = Bun.listen<Conn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { buf: Buffer.alloc(0), busy: false, sent: 0 };
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
      s.data.sent += n;
      rest = rest.subarray(n);
      if (rest.byteLength > 0) await new Promise<void>((r) => drains.set(s, r));
    }
    if (apart) await peerHasRead(server.port, s.remotePort, s.data.sent);
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
 * Until the peer has received all `sent` bytes and read them: its socket's count of bytes received
 * and its unread bytes. (A write on loopback is not always in the peer's queue when it returns,
 * and our own unacknowledged count is no help: a delayed ACK holds it for 40 ms after the read.)
 * Then a few turns of the event loop, for a peer in this process to take the read.
 */
/** Turns of the event loop after the peer's read: with 1, 0.7% of reads at an in-process fetch joined the next; with 4, about 0.1%. */
const TURNS = 4;

async function peerHasRead(ourPort: number, peerPort: number, sent: number): Promise<void> {
  for (let spins = 0; ; spins++) {
    await new Promise((r) => setImmediate(r));
    // The peer is a thread (Bun's fetch) or process that needs a core to read: hand it this one
    // rather than poll against it. On a busy machine it waited for one while this loop spun (the
    // chunking tests spent most of their CPU here: 200k-950k polls a run, against 3k-9k now).
    libc.sched_yield();
    const peer = peerSocket(peerPort, ourPort);
    if (!peer || (peer.received >= sent && peer.unread === 0)) break;
    if (spins > 100_000) throw new Error("pieces upstream: the peer never read its bytes");
  }
  for (let turn = 0; turn < TURNS; turn++) await new Promise((r) => setImmediate(r));
}

// The kernel's socket table asked for one socket (sock_diag over netlink: a few µs, where reading
// /proc/net/tcp walks the whole table, a millisecond a look).
const libc = dlopen("libc.so.6", {
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  send: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64 },
  recv: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64 },
  sched_yield: { args: [], returns: FFIType.i32 },
}).symbols;
const AF_NETLINK = 16;
const SOCK_RAW_CLOEXEC = 3 | 0o2000000;
const NETLINK_SOCK_DIAG = 4;
const SOCK_DIAG_BY_FAMILY = 20;
const NLMSG_ERROR = 2;
const INET_DIAG_INFO = 2;
let diag: number | undefined;
const request = Buffer.alloc(72); // nlmsghdr (16) + inet_diag_req_v2 (56)
const reply = Buffer.alloc(1024);

/** The loopback TCP socket `127.0.0.1:from → 127.0.0.1:to`: bytes it received and has not read yet; undefined when there is none. */
function peerSocket(from: number, to: number): { received: number; unread: number } | undefined {
  diag ??= libc.socket(AF_NETLINK, SOCK_RAW_CLOEXEC, NETLINK_SOCK_DIAG);
  request.fill(0);
  request.writeUInt32LE(request.length, 0);
  request.writeUInt16LE(SOCK_DIAG_BY_FAMILY, 4);
  request.writeUInt16LE(1, 6); // NLM_F_REQUEST: one socket, looked up by its addresses
  request[16] = 2; // AF_INET
  request[17] = 6; // TCP
  request[18] = 1 << (INET_DIAG_INFO - 1); // with its tcp_info
  request.writeUInt32LE(0xffffffff, 20); // any state
  request.writeUInt16BE(from, 24);
  request.writeUInt16BE(to, 26);
  request.set([127, 0, 0, 1], 28);
  request.set([127, 0, 0, 1], 44);
  request.writeUInt32LE(0xffffffff, 64); // no cookie
  request.writeUInt32LE(0xffffffff, 68);
  if (Number(libc.send(diag, ptr(request), request.length, 0)) !== request.length) throw new Error("pieces upstream: sock_diag refused the request");
  if (Number(libc.recv(diag, ptr(reply), reply.length, 0)) < 16) throw new Error("pieces upstream: no answer from sock_diag");
  if (reply.readUInt16LE(4) === NLMSG_ERROR) return undefined;
  const unread = reply.readUInt32LE(16 + 56); // inet_diag_msg's idiag_rqueue
  // Then its attributes: INET_DIAG_INFO holds struct tcp_info, tcpi_bytes_received at 128.
  for (let at = 16 + 72; at + 4 <= reply.readUInt32LE(0); at += (reply.readUInt16LE(at) + 3) & ~3) {
    if (reply.readUInt16LE(at + 2) === INET_DIAG_INFO) return { received: Number(reply.readBigUInt64LE(at + 4 + 128)), unread };
  }
  throw new Error("pieces upstream: sock_diag gave no tcp_info");
}
