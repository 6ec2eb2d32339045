// An upstream on a raw socket that answers each request with exactly the bytes a test writes: a
// status line, headers and body as they are, nothing added (Bun.serve adds a Content-Type to a
// text body, and refuses some statuses and headers a broken relay sends). One answer per
// connection, then it closes.
import { type AddressInfo, createServer, type Socket } from "node:net";

export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Headers;
  readonly body: string;
}

export interface RawUpstream {
  readonly url: string;
  /** Every request it received, in order. */
  readonly seen: RawRequest[];
  /** Connections made to it (a listener that must be left alone counts them). */
  connections(): number;
  stop(): Promise<void>;
}

/** `answer` gives the whole HTTP answer to a request (status line, headers, blank line, body). */
export async function rawUpstream(answer: (req: RawRequest) => string | Uint8Array = () => ""): Promise<RawUpstream> {
  const seen: RawRequest[] = [];
  const open = new Set<Socket>();
  let connections = 0;
  const srv = createServer((sock) => {
    connections++;
    open.add(sock);
    sock.on("close", () => open.delete(sock));
    sock.on("error", () => {});
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf("\r\n\r\n");
      if (end === -1) return;
      const [line = "", ...lines] = buf.subarray(0, end).toString("latin1").split("\r\n");
      const headers = new Headers();
      for (const l of lines) {
        const i = l.indexOf(":");
        if (i > 0) headers.append(l.slice(0, i).trim(), l.slice(i + 1).trim());
      }
      const length = Number(headers.get("content-length") ?? 0);
      if (buf.byteLength < end + 4 + length) return;
      sock.off("data", onData);
      const [method = "", path = ""] = line.split(" ");
      const req = { method, path, headers, body: buf.subarray(end + 4, end + 4 + length).toString() };
      seen.push(req);
      sock.end(answer(req));
    };
    sock.on("data", onData);
  });
  await new Promise<void>((ok) => srv.listen(0, "127.0.0.1", () => ok()));
  const { port } = srv.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    connections: () => connections,
    stop: () =>
      new Promise<void>((ok) => {
        srv.close(() => ok());
        for (const s of open) s.destroy();
      }),
  };
}

/** An HTTP/1.1 answer: `status` (with its reason), `headers` as given, then `body` (a Content-Length added unless `headers` frame it). */
export function httpAnswer(status: string, headers: readonly (readonly [string, string])[], body = ""): string {
  const framed = headers.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k));
  const all = framed ? headers : [...headers, ["content-length", String(Buffer.byteLength(body))] as const];
  return `HTTP/1.1 ${status}\r\n${all.map(([k, v]) => `${k}: ${v}\r\n`).join("")}connection: close\r\n\r\n${body}`;
}
