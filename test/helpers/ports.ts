// Free loopback ports for a test's servers, all different. Asking for one free port at a time is
// not enough: each is closed as soon as it is found, so the next ask may get the same one (CI saw
// an instance given the LB's own port). Here every port is held until all are found.
//
// They are taken below the kernel's ephemeral range (where `port: 0` picks, for every test's
// servers and gw's own): a port a test's config names is left free whenever its instance is down
// (killed, crash-looping), and a server of the other test worker listening there answered gw in
// its place (a 200 from a crash loop, a 502 where a respawn was awaited: CI, twice).
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";

/** Below this the kernel never picks for port 0 (ip_local_port_range's start), when we can tell. */
const EPHEMERAL_START = (() => {
  try {
    return Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
  } catch {
    return 0;
  }
})();
const LOWEST = 10_000;

export async function freePorts(n: number, host = "127.0.0.1"): Promise<number[]> {
  const held: Server[] = [];
  try {
    while (held.length < n) {
      const srv = createServer();
      const port = EPHEMERAL_START > LOWEST + 1_000 ? LOWEST + Math.floor(Math.random() * (EPHEMERAL_START - LOWEST)) : 0;
      if (await listens(srv, port, host)) held.push(srv);
    }
    return held.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  }
}

/** One free port, below the ephemeral range as freePorts' are (for several at once, freePorts). */
export const freePort = async (host = "127.0.0.1"): Promise<number> => (await freePorts(1, host))[0]!;

/** Whether `srv` could listen on `port` (a taken one is tried again elsewhere; port 0 always can). */
function listens(srv: Server, port: number, host: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    srv.once("error", (e: NodeJS.ErrnoException) => (port !== 0 && e.code === "EADDRINUSE" ? resolve(false) : reject(e)));
    srv.listen({ port, host }, () => resolve(true));
  });
}
