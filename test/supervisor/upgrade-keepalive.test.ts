// `gw upgrade` and the keep-alive connections a client holds to the old gw: once the hand-over is
// committed, the old gw takes no new request on them (it closes the idle ones), so a stream a
// client starts after the upgrade runs on the new gw and is never cut by the old gw's grace
// period. Real processes (`gw up -d`, `gw upgrade`), the official Anthropic SDK as the client.
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import Anthropic from "@anthropic-ai/sdk";
import { alive, gw, killAll, type Sandbox, sandbox, until } from "../helpers/supervisor.ts";

const cleanups: Sandbox[] = [];
afterAll(async () => {
  for (const sb of cleanups) await killAll(sb);
});

/** Short, so that streams started one after another after the hand-over outlast it. */
const GRACE_MS = 6000;
/** Each stream: 25 deltas 100 ms apart (~2.5 s); three in a row end well after GRACE_MS. */
const STREAM_FAULT = "interval=100~events=25";
const CONNECTIONS = 3;

test("streams sent on keep-alive connections opened before an upgrade all finish: none is taken by the old gw and cut at its grace period", async () => {
  const sb = await sandbox([{ name: "a" }]);
  cleanups.push(sb);
  writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace("shutdown_grace_ms = 15000", `shutdown_grace_ms = ${GRACE_MS}`));
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  // The SDK's defaults (its retries on a connection error included): what a user's client does.
  const client = new Anthropic({ baseURL: `http://127.0.0.1:${sb.mainPort}`, apiKey: "unused" });
  const ask = { model: "m", max_tokens: 16, messages: [{ role: "user" as const, content: "hi" }] };
  // Requests at the same time, each on its own connection: the client's pool then holds that
  // many idle keep-alive connections to the old gw.
  await Promise.all(Array.from({ length: CONNECTIONS }, () => client.messages.create(ask)));

  const up = await gw(sb, ["upgrade", "--json", "-c", sb.file]);
  const out = JSON.parse(up.stdout) as { ok: boolean; pid: number };
  expect(out.ok).toBe(true);
  const handedOverAt = performance.now();

  // One after another, as an agent's turns come: together longer than the old gw's grace period.
  const ended: string[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const stream = client.messages.stream(ask, { headers: { "x-mock-fault": STREAM_FAULT } });
    const at = ((performance.now() - handedOverAt) / 1000).toFixed(1);
    ended.push(
      await stream.finalMessage().then(
        (m) => (m.stop_reason === "end_turn" ? "finished" : `finished: ${m.stop_reason}`),
        (e: Error) => `stream ${i} (sent ${at} s after the hand-over) cut: ${e.message}`,
      ),
    );
  }
  expect(ended).toEqual(Array(CONNECTIONS).fill("finished"));
  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
  await until(async () => !(await alive(out.pid)), 20_000, () => `new gw ${out.pid} still running after down`);
}, 90_000);
