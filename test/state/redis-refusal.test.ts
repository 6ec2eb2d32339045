// The second look at a Redis that closed gw's connection (state/redis-refusal.ts): a server that
// takes the connection and says nothing gets its connection back at the deadline; a TLS handshake
// that fails is told apart: no TLS on that port is no certificate to trust.
import { expect, test } from "bun:test";
import { askRefusal } from "../../src/state/redis-refusal.ts";
import { startRedis } from "../helpers/redis.ts";
import { until } from "../helpers/supervisor.ts";

test("a server that never answers: no cause after the deadline, and the look's connection is closed (it stayed open)", async () => {
  let open = 0;
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open: () => void open++, close: () => void open--, data: () => {} } });
  try {
    expect(await askRefusal(`redis://:pw@127.0.0.1:${server.port}`)).toBeUndefined();
    await until(() => open === 0, 2000, () => "the look's connection to close");
  } finally {
    server.stop(true);
  }
});

test("rediss:// at a Redis that speaks no TLS: said as such, with the fix (it was a certificate gw does not trust, and a CA to give)", async () => {
  const plain = await startRedis();
  try {
    expect(await askRefusal(`rediss://127.0.0.1:${plain.port}`)).toMatch(/^does not speak TLS on that port \(ECONNRESET[^)]*\): use redis:\/\/ in the URL of \[global\] state, or the port of its TLS listener$/);
  } finally {
    await plain.stop();
  }
}, 30_000);
