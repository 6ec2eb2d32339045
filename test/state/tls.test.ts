// Issue 11: `state = "rediss://…"` — Redis over TLS, what managed Redis services offer — works as
// redis:// does (only redis:// was ever run before; rediss:// was checked as config alone). A real
// redis-server that speaks TLS only, and a real `gw up` that trusts its certificate the way Bun
// trusts any extra CA (NODE_EXTRA_CA_CERTS): the backend is up, and a session's sticky target
// lands in Redis under the prefix. A certificate gw does not trust is said as such, with the fix
// (it was "unreachable (Connection closed)", which sent the user looking at the network).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { openRedisState } from "../../src/state/redis.ts";
import { startRedis, type TestRedis } from "../helpers/redis.ts";
import { killAll, type RunningGw, type Sandbox, sandbox, startGw, until } from "../helpers/supervisor.ts";
import { selfSigned } from "../helpers/tls.ts";
import { tempDir } from "../helpers/tmp.ts";

/** A fresh self-signed certificate for 127.0.0.1 and its key. */
async function certificate(): Promise<{ cert: string; key: string }> {
  const dir = tempDir("gw-rediss-");
  const [cert, key] = [join(dir, "cert.pem"), join(dir, "key.pem")];
  await selfSigned(cert, key);
  return { cert, key };
}

let redis: TestRedis;
let cert: string;
let sb: Sandbox | undefined;
let g: RunningGw | undefined;
beforeAll(async () => {
  const c = await certificate();
  cert = c.cert;
  redis = await startRedis({ tls: c });
}, 30_000);
afterAll(async () => {
  if (sb) await killAll(sb, g);
  await redis?.stop();
});

test("rediss://: gw shares sticky sessions through a Redis that speaks TLS only", async () => {
  expect(redis.url).toStartWith("rediss://");
  sb = await sandbox([{ name: "a" }]);
  Object.assign(sb.env, { GW_STATE: redis.url, NODE_EXTRA_CA_CERTS: cert });
  g = startGw(sb, ["up", "-c", sb.file]);
  await g.waitFor("serving on", 60_000);
  const base = `http://127.0.0.1:${sb.mainPort}`;
  expect(await (await fetch(`${base}/metrics`)).text()).toContain('gw_state_backend_up{backend="redis"} 1');

  const sid = crypto.randomUUID();
  const res = await fetch(`${base}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-claude-code-session-id": sid },
    body: JSON.stringify({ model: "m", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
  });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  const look = await redis.client();
  const sticky = async () => (await look.send("KEYS", ["gw:st:*"])) as string[];
  await until(async () => (await sticky()).length > 0, 5_000, () => "the session's sticky key in Redis");
  expect(await sticky()).toEqual([`gw:st:cc:${sid}::m`]);
  expect(readFileSync(join(sb.dir, "logs", "gw.log"), "utf8")).not.toMatch(/WARN .*Redis/);
}, 90_000);

test("a certificate gw does not trust: one warning that says so and how to trust it, serving from local state", async () => {
  // This test process trusts no extra CA: the TLS Redis here is one nobody vouched for.
  const lines: string[] = [];
  const log = { info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`) };
  const store = await openRedisState({ url: redis.url, prefix: "gw", log, timing: { backoffMinMs: 50, backoffMaxMs: 200, connectTimeoutMs: 2000 } });
  try {
    const { up, problem } = store.health();
    expect(up).toBe(false);
    expect(problem).toMatch(/^sent a certificate gw does not trust \([A-Z_]+: [^)]+\): give gw the CA that signed it with NODE_EXTRA_CA_CERTS=\/path\/to\/ca\.pem$/);
    expect(lines).toEqual([`warn state: Redis at ${redis.url} ${problem}; serving from local state, reconnecting in the background`]);
    store.setSticky("cc:s1::m", "a/x", Date.now());
    expect(store.sticky("cc:s1::m", Date.now())).toBe("a/x");
  } finally {
    await store.close();
  }
}, 30_000);

test("a password in the URL never reaches a server whose certificate gw does not trust", async () => {
  // A TLS server that presents the untrusted certificate and keeps whatever reaches it.
  const own = await certificate();
  let heard = "";
  let handshakes = 0;
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: Bun.file(own.cert), key: Bun.file(own.key) },
    socket: {
      open: () => void handshakes++,
      data: (_s, chunk) => void (heard += chunk.toString()),
    },
  });
  const log = { info: () => {}, warn: () => {} };
  const store = await openRedisState({ url: `rediss://:s3cret-pw@127.0.0.1:${server.port}`, prefix: "gw", log, timing: { backoffMinMs: 50, backoffMaxMs: 200, connectTimeoutMs: 2000 } });
  try {
    await until(() => handshakes >= 3, 5000, () => "gw to try a few times");
    expect(store.health().problem).toStartWith("sent a certificate gw does not trust");
    expect(heard).not.toContain("s3cret-pw");
  } finally {
    await store.close();
    server.stop(true);
  }
}, 30_000);

test("over TLS too, Redis's refusal is read (a wrong password), and a certificate made for other names says to use one of them", async () => {
  // A gw that trusts the CA: NODE_EXTRA_CA_CERTS is read at start, so the look runs in a child.
  const own = await certificate();
  const locked = await startRedis({ tls: own, args: ["--requirepass", "right-pw"], clientUrl: (port) => `rediss://:right-pw@127.0.0.1:${port}` });
  try {
    const look = async (url: string) => {
      const script = `console.log(await (await import(${JSON.stringify(join(import.meta.dir, "../../src/state/redis-refusal.ts"))})).askRefusal(${JSON.stringify(url)}))`;
      const p = Bun.spawn([process.execPath, "-e", script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: own.cert, GW_STATE: "" }, stdout: "pipe", stderr: "inherit" });
      return (await new Response(p.stdout).text()).trim();
    };
    // Before: the request was written before the TLS handshake, which drops it — "Connection closed" stood.
    expect(await look(`rediss://:wrong-pw@127.0.0.1:${locked.port}`)).toMatch(/^refused the credentials \(WRONGPASS /);
    // gw.test and 127.0.0.1 are its names; localhost is not (another CA would not help).
    expect(await look(`rediss://:wrong-pw@localhost:${locked.port}`)).toMatch(/^sent a certificate gw does not trust \(ERR_TLS_CERT_ALTNAME_INVALID: .*\): put a name it was made for in the URL of \[global\] state$/);
  } finally {
    await locked.stop();
  }
}, 30_000);
