// The second look at a Redis that closed gw's connection (state/redis-refusal.ts): a server that
// takes the connection and says nothing gets its connection back at the deadline; a TLS handshake
// that fails is told apart (no TLS on that port, a certificate for other names), the fix said whole.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { askRefusal } from "../../src/state/redis-refusal.ts";
import { startRedis } from "../helpers/redis.ts";
import { until } from "../helpers/supervisor.ts";
import { selfSigned } from "../helpers/tls.ts";
import { tempDir } from "../helpers/tmp.ts";

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

test("a certificate made for other names: gw's health says the whole fix, however long TLS's own words (it was cut at 200 characters)", async () => {
  const dir = tempDir("gw-rediss-");
  const [cert, key] = [join(dir, "cert.pem"), join(dir, "key.pem")];
  await selfSigned(cert, key);
  const tls = await startRedis({ tls: { cert, key } });
  try {
    // NODE_EXTRA_CA_CERTS is read at start: a gw that trusts the CA runs in a child.
    const script = `const { openRedisState } = await import(${JSON.stringify(join(import.meta.dir, "../../src/state/redis.ts"))});
      const s = await openRedisState({ url: "rediss://localhost:${tls.port}", prefix: "gw", log: { info() {}, warn() {} }, timing: { backoffMinMs: 5000 } });
      console.log(s.health().problem); await s.close();`;
    const p = Bun.spawn([process.execPath, "-e", script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: cert, GW_STATE: "" }, stdout: "pipe", stderr: "inherit" });
    const problem = (await new Response(p.stdout).text()).trim();
    expect(problem).toStartWith("sent a certificate gw does not trust (ERR_TLS_CERT_ALTNAME_INVALID: ");
    expect(problem).toEndWith("): put a name it was made for in the URL of [global] state");
  } finally {
    await tls.stop();
  }
}, 30_000);
