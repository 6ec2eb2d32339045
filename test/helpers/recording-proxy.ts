// A company proxy's stand-in on loopback: it notes where each request wanted to go (a CONNECT's
// host:port, or a plain-HTTP request's absolute URL) and refuses it with a 502, so whatever an
// agent sent through it fails at once and the test can tell which hosts it was asked for.
import { isLoopback } from "../../src/config/loopback.ts";
import { freePorts } from "./ports.ts";

export interface RecordingProxy {
  /** http://127.0.0.1:PORT, what HTTP_PROXY and HTTPS_PROXY name. */
  readonly url: string;
  /** Every target asked for so far: `api.anthropic.com:443`, `http://127.0.0.1:8145/v1/messages`. */
  readonly targets: string[];
  /** The targets on this machine: what a proxy must never be asked for. */
  loopback(): string[];
  /** Resolves with the first target `pick` accepts (at once when one came already). */
  asked(pick: (target: string) => boolean): Promise<string>;
  stop(): void;
}

export async function recordingProxy(): Promise<RecordingProxy> {
  const [port] = await freePorts(1);
  const targets: string[] = [];
  const waiting: { pick: (t: string) => boolean; resolve: (t: string) => void }[] = [];
  const note = (target: string) => {
    targets.push(target);
    for (const w of waiting.filter((w) => w.pick(target))) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve(target);
    }
  };
  const answered = new WeakSet<object>();
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: port!,
    socket: {
      data(socket, bytes) {
        if (answered.has(socket)) return; // the rest of a request already refused
        answered.add(socket);
        // "CONNECT host:443 HTTP/1.1" or "POST http://host:port/path HTTP/1.1": the request line only.
        const target = bytes.toString("latin1").split("\r\n")[0]!.split(" ")[1];
        if (target) note(target);
        socket.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      },
    },
  });
  return {
    url: `http://127.0.0.1:${port}`,
    targets,
    loopback: () => targets.filter(onLoopback),
    asked: (pick) => {
      const found = targets.find(pick);
      return found !== undefined ? Promise.resolve(found) : new Promise((resolve) => waiting.push({ pick, resolve }));
    },
    stop: () => server.stop(true),
  };
}

/** Whether a target names this machine: `127.0.0.1:8145`, `http://localhost:1/x`, `[::1]:443`. */
export function onLoopback(target: string): boolean {
  const host = URL.parse(target.includes("://") ? target : `http://${target}`)?.hostname.replace(/^\[(.*)\]$/, "$1");
  return host !== undefined && isLoopback(host);
}
