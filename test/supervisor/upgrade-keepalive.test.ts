// `gw upgrade` and the keep-alive connections a client holds to the old gw: each may still bring
// the old gw one request after the hand-over (its answer closes the connection). That stream got
// only what was left of the old gw's grace period, measured from the hand-over, and was cut (a
// hunter's client sent it 9.3 s after an upgrade with a 10 s grace); it gets a whole grace period
// of its own. Real processes (`gw up -d`, `gw upgrade`); the client is a raw HTTP/1.1 socket, so
// that the request surely goes on the connection opened before the upgrade.
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { alive, gw, killAll, type Sandbox, sandbox, until } from "../helpers/supervisor.ts";

const cleanups: Sandbox[] = [];
afterAll(async () => {
  for (const sb of cleanups) await killAll(sb);
});

const GRACE_MS = 10_000;

/** A keep-alive connection and what it has received so far. */
function keptAlive(port: number) {
  const c = { socket: undefined as unknown as Socket, got: "", closed: false };
  c.socket = connect(port, "127.0.0.1");
  c.socket.setEncoding("utf8");
  c.socket.on("data", (d: string) => (c.got += d));
  c.socket.on("close", () => (c.closed = true));
  c.socket.on("error", () => {});
  return c;
}

function post(port: number, body: object, headers: Record<string, string> = {}): string {
  const json = JSON.stringify(body);
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  return `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n${extra}Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
}test("a stream sent on a keep-alive connection opened before an upgrade, while the old gw still serves, finishes past the grace period counted from the hand-over", async () => {
  const sb = await sandbox([{ name: "a" }]);
  cleanups.push(sb);
  writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace("shutdown_grace_ms = 15000", `shutdown_grace_ms = ${GRACE_MS}`));
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  const ask = { model: "m", max_tokens: 16, messages: [{ role: "user", content: "hi" }] };
  // A client's pool: two connections, each used once.
  const [busy, idle] = [keptAlive(sb.mainPort), keptAlive(sb.mainPort)];
  for (const c of [busy, idle]) c.socket.write(post(sb.mainPort, ask));
  await until(() => [busy, idle].every((c) => c.got.includes('"type":"message"')), 10_000, () => "the first answers");
  const sent = (c: ReturnType<typeof keptAlive>, events: number) => {
    const before = c.got.length;
    c.socket.write(post(sb.mainPort, { ...ask, stream: true }, { "x-mock-fault": `interval=100~events=${events}` }));
    return async () => {
      await until(() => c.closed || c.got.includes("event: message_stop"), 30_000, () => "the answer to end");
      const answer = c.got.slice(before);
      return answer.includes("event: message_stop") && !answer.includes("grace period") ? "finished" : `cut: ${answer.slice(-300)}`;
    };
  };
  // ~6 s: in flight through the upgrade, it keeps the old gw serving its connections meanwhile.
  const first = sent(busy, 60);
  const up = await gw(sb, ["upgrade", "--json", "-c", sb.file]);
  const out = JSON.parse(up.stdout) as { ok: boolean; pid: number };
  expect(out.ok).toBe(true);
  // A turn of the agent on its other pooled connection, 2 s after the hand-over: ~8.5 s of
  // stream, which ends after the grace period counted from the hand-over.
  await Bun.sleep(2000);
  const second = sent(idle, 85);
  expect([await first(), await second()]).toEqual(["finished", "finished"]);
  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
  await until(async () => !(await alive(out.pid)), 20_000, () => `new gw ${out.pid} still running after down`);
}, 90_000);
