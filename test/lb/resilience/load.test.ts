// Load test (bounded, loopback only): 200 concurrent Anthropic SDK streams through `gw lb` (a real
// child process) over three `gw mock` children, while one instance is SIGKILLed and restarted on
// its port twice. Acceptance: no request fails before its stream started (they fail over), every
// stream cut by a kill ends with an error event the SDK raises, and every success is complete.
// Beside them, 30 clients ask for whole (non-streamed) answers: none of those may fail.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { answerPieces } from "../../../src/mock/answer.ts";
import { freePorts } from "../../helpers/ports.ts";
import { type GatewayProcess, HI, readRequestLog, spawnGateway, waitFor } from "../../helpers/resilience.ts";
import { type SpawnedMock, spawnMock } from "../../helpers/mock.ts";
import { tempDir } from "../../helpers/tmp.ts";

const WORKERS = 200;
/** Beside the streams: clients asking for whole answers, which gw holds until complete. */
const PLAIN_WORKERS = 30;
const EVENTS = 20;
const INTERVAL_MS = 60; // ~1.2 s per stream
const NAMES = ["a", "b", "c"] as const;
type Name = (typeof NAMES)[number];

const mocks: Partial<Record<Name, SpawnedMock>> = {};
let gw: GatewayProcess | undefined;
afterAll(async () => {
  await gw?.stop();
  await Promise.all(Object.values(mocks).map((m) => m?.stop()));
});

const mockArgs = (name: Name, port: number) =>
  ["--port", String(port), "--api-key", `key-${name}`, "--name", name, "--events", String(EVENTS), "--interval", String(INTERVAL_MS)];

/** Respawn on the same port; the old socket may take a moment to be released. */
async function respawn(name: Name, port: number): Promise<SpawnedMock> {
  for (let tries = 0; ; tries++) {
    try {
      return await spawnMock(mockArgs(name, port));
    } catch (e) {
      if (tries >= 10) throw e;
      await Bun.sleep(100);
    }
  }
}

interface Tally {
  started: number;
  ok: number;
  /** Streams that had begun (headers received) and ended with the SDK raising an error event. */
  cutWithErrorEvent: number;
  /** Streams that had begun and ended any other way than a complete answer or an error event. */
  cutOtherwise: string[];
  /** Requests that failed before their stream started: must stay 0. */
  failedBeforeStream: string[];
  /** Answers whose text was not the instance's full answer. */
  truncatedSuccess: string[];
  failedOver: number;
  /** Cut streams per instance that served them: only the killed one may cut. */
  cutOn: Record<string, number>;
  byInstance: Record<string, number>;
  activeOn: Record<string, number>;
}

test("200 concurrent streams, one instance killed and restarted twice: 0 failures before streaming, every cut stream errors", async () => {
  const dir = tempDir("gw-load-");
  const free = await freePorts(NAMES.length + 1);
  const ports = Object.fromEntries(NAMES.map((n, i) => [n, free[i]!] as const)) as Record<Name, number>;
  for (const n of NAMES) mocks[n] = await spawnMock(mockArgs(n, ports[n]));
  const file = join(dir, "providers.toml");
  writeFileSync(
    file,
    `[global]
host = "127.0.0.1"
main_port = ${free[NAMES.length]}
shutdown_grace_ms = 1000
lb_transient_cooldown_ms = 500
${NAMES.map((n) => `[instances.${n}]\nurl = "${mocks[n]!.url}"\napi_key = "key-${n}"\nproviders = [{ type = "anthropic", api_keys = ["sk-${n}"] }]`).join("\n")}
[routing]
"load" = [${NAMES.map((n) => `{ instance = "${n}", provider = "anthropic", model = "claude-${n}" }`).join(", ")}]
`,
  );
  gw = await spawnGateway(file);
  const client = new Anthropic({ baseURL: gw.url, apiKey: "client", maxRetries: 0, timeout: 60_000 });
  const full = Object.fromEntries(NAMES.map((n) => [n, answerPieces(n, `claude-${n}`, EVENTS).join("")]));

  const t: Tally = { started: 0, ok: 0, cutWithErrorEvent: 0, cutOtherwise: [], failedBeforeStream: [], truncatedSuccess: [], failedOver: 0, cutOn: {}, byInstance: {}, activeOn: {} };
  let running = true;
  const oneStream = async () => {
    t.started++;
    let res: { data: ReturnType<typeof client.messages.stream>; response: Response };
    try {
      res = await client.messages.stream({ model: "load", max_tokens: 256, messages: HI }).withResponse();
    } catch (e) {
      t.failedBeforeStream.push(String(e).slice(0, 200));
      return;
    }
    const where = (res.response.headers.get("x-gw-target") ?? "?").split("/")[0]!;
    if (Number(res.response.headers.get("x-gw-attempts")) > 1) t.failedOver++;
    t.byInstance[where] = (t.byInstance[where] ?? 0) + 1;
    t.activeOn[where] = (t.activeOn[where] ?? 0) + 1;
    try {
      const msg = await res.data.finalMessage();
      const text = msg.content.map((b: Anthropic.ContentBlock) => (b.type === "text" ? b.text : "")).join("");
      if (text === full[where] && msg.stop_reason === "end_turn") t.ok++;
      else t.truncatedSuccess.push(`${where}: ${text.slice(-40)} (${msg.stop_reason})`);
    } catch (e) {
      const err = e as InstanceType<typeof Anthropic.APIError>;
      // An SSE `event: error` becomes an APIError without status whose body is the error event.
      const isErrorEvent =
        e instanceof Anthropic.APIError && !(e instanceof Anthropic.APIConnectionError) && err.status === undefined && (err.error as { type?: string })?.type === "error";
      t.cutOn[where] = (t.cutOn[where] ?? 0) + 1;
      if (isErrorEvent) t.cutWithErrorEvent++;
      else t.cutOtherwise.push(`${where}: ${String(e).slice(0, 200)}`);
    } finally {
      t.activeOn[where]!--;
    }
  };
  const worker = async () => {
    while (running) await oneStream();
  };
  // Non-streamed answers never reach the client half-done: each must succeed, whatever dies.
  const plain = { done: 0, failed: [] as string[] };
  const plainWorker = async () => {
    while (running) {
      try {
        const { data, response } = await client.messages.create({ model: "load", max_tokens: 256, messages: HI }).withResponse();
        const where = (response.headers.get("x-gw-target") ?? "?").split("/")[0]!;
        const text = data.content.map((b: Anthropic.ContentBlock) => (b.type === "text" ? b.text : "")).join("");
        if (text === full[where]) plain.done++;
        else plain.failed.push(`${where}: incomplete answer ${text.slice(-40)}`);
      } catch (e) {
        plain.failed.push(String(e).slice(0, 200));
      }
    }
  };
  const began = Date.now();
  const workers = [...Array.from({ length: WORKERS }, worker), ...Array.from({ length: PLAIN_WORKERS }, plainWorker)];
  const timeline: string[] = [];
  const openAtKills: number[] = [];
  const note = (what: string) => timeline.push(`${((Date.now() - began) / 1000).toFixed(1)}s ${what}`);

  try {
    for (let round = 1; round <= 2; round++) {
      const openNow = () => Object.values(t.activeOn).reduce((n, v) => n + v, 0);
      // Kill under load: wait for the workers to ramp up, not only for a's share (on a slow
      // start a reached 30 streams while only 96 of 200 workers had one open).
      await waitFor(() => (t.activeOn.a ?? 0) >= 30 && openNow() >= WORKERS / 2, 30_000, `round ${round}: streams on a`);
      const open = openNow();
      openAtKills.push(open);
      note(`kill a with ${t.activeOn.a} of ${open} open streams on it`);
      const dying = mocks.a!;
      dying.proc.kill("SIGKILL");
      await dying.proc.exited;
      // While a is down, let a few hundred requests run (any that hits the dead port fails over).
      const until = t.started + 300;
      await waitFor(() => t.started >= until, 30_000, `round ${round}: requests while a is down`);
      mocks.a = await respawn("a", ports.a);
      note("a restarted");
    }
    await waitFor(() => (t.activeOn.a ?? 0) >= 10, 30_000, "streams on a after the second restart");
    note("a serving again");
  } finally {
    running = false;
    await Promise.all(workers);
  }
  note("all streams ended");

  const figures = {
    seconds: (Date.now() - began) / 1000,
    requests: t.started,
    ok: t.ok,
    failedOver: t.failedOver,
    cutWithErrorEvent: t.cutWithErrorEvent,
    cutOtherwise: t.cutOtherwise.length,
    failedBeforeStream: t.failedBeforeStream.length,
    truncatedSuccess: t.truncatedSuccess.length,
    byInstance: t.byInstance,
    cutOn: t.cutOn,
    openAtKills,
    plainOk: plain.done,
    plainFailed: plain.failed.length,
  };
  console.log(`load figures: ${JSON.stringify(figures)}\n  ${timeline.join("\n  ")}`);

  expect(t.failedBeforeStream).toEqual([]);
  expect(plain.failed).toEqual([]);
  expect(plain.done).toBeGreaterThan(0);
  expect(t.cutOtherwise).toEqual([]);
  expect(t.truncatedSuccess).toEqual([]);
  expect(t.ok + t.cutWithErrorEvent).toBe(t.started);
  expect(t.cutWithErrorEvent).toBeGreaterThan(0); // the kills did cut streams in flight
  expect(Object.keys(t.cutOn)).toEqual(["a"]); // streams on the instances that stayed up all completed
  // Requests that met the dead port moved on (failedOver) — but whether any meets it is timing:
  // the first cut stream cools a, and once that cooldown ends the probe keeps a out without a
  // user request. Failover on a refused connection is pinned in failover.test.ts; here it is a
  // figure, and the assertions above say no request failed either way.
  expect(t.byInstance.a).toBeGreaterThan(0);
  // The kills happened under load: most of the 200 workers had a stream open at that moment.
  for (const open of openAtKills) expect(open).toBeGreaterThanOrEqual(WORKERS / 2);

  // The request log, flushed by the graceful stop, tells the same story, one line per request.
  await gw.stop();
  const log = readRequestLog(dir);
  expect(log).toHaveLength(t.started + plain.done);
  expect(log.filter((r) => r.response.broken === true)).toHaveLength(t.cutWithErrorEvent);
  expect(log.filter((r) => r.request.stream === true && r.routing.attempts.length > 1)).toHaveLength(t.failedOver);
  expect(log.filter((r) => r.response.status !== 200)).toEqual([]);
}, 120_000);
