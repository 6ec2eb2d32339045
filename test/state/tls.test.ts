// Issue 11: `state = "rediss://…"` — Redis over TLS, what managed Redis services offer — works as
// redis:// does (only redis:// was ever run before; rediss:// was checked as config alone). A real
// redis-server that speaks TLS only, and a real `gw up` that trusts its certificate the way Bun
// trusts any extra CA (NODE_EXTRA_CA_CERTS): the backend is up, and a session's sticky target
// lands in Redis under the prefix.
import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startRedis, type TestRedis } from "../helpers/redis.ts";
import { killAll, type RunningGw, type Sandbox, sandbox, startGw, until } from "../helpers/supervisor.ts";
import { selfSigned } from "../helpers/tls.ts";
import { tempDir } from "../helpers/tmp.ts";

let redis: TestRedis | undefined;
let sb: Sandbox | undefined;
let g: RunningGw | undefined;
afterAll(async () => {
  if (sb) await killAll(sb, g);
  await redis?.stop();
});

test("rediss://: gw shares sticky sessions through a Redis that speaks TLS only", async () => {
  const dir = tempDir("gw-rediss-");
  const [cert, key] = [join(dir, "cert.pem"), join(dir, "key.pem")];
  await selfSigned(cert, key);
  redis = await startRedis({ tls: { cert, key } });
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
