// Free loopback ports for a test's servers, all different. Asking for one free port at a time is
// not enough: each is closed as soon as it is found, so the next ask may get the same one (CI saw
// an instance given the LB's own port). Here every port is held until all are found.
import { createServer, type Server } from "node:net";

export async function freePorts(n: number, host = "127.0.0.1"): Promise<number[]> {
  const held: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = createServer();
      held.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once("error", reject);
        srv.listen({ port: 0, host }, resolve);
      });
    }
    return held.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  }
}
