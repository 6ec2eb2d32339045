// A request whose only target is on an instance on its way back — `gw restart NAME`, a reload
// that moves its port, a respawn after a crash — waits for it (lb/hold.ts) and gets a whole
// answer; a crash-looping instance is not waited for beyond one start. Real gw, real instances
// (gw mock behind a wrapper that, while the test holds a gate closed, waits to start: a request is
// sure to arrive while the instance is down, however busy the machine), real streams.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type RunningGateway, startGateway } from "../../src/lb/server.ts";
import type { RequestRecord } from "../../src/observe/record.ts";
import { controlJson } from "../../src/supervisor/control.ts";
import { InstanceSet } from "../../src/supervisor/instances.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";
import { procInfo } from "../../src/supervisor/proc.ts";
import type { StatusReport } from "../../src/supervisor/status.ts";
import { DEFAULT_TIMING } from "../../src/supervisor/timing.ts";
import { freePorts } from "../helpers/ports.ts";
import { logRecords } from "../helpers/resilience.ts";
import { chatThrough, crashingScript, followStream, gw, killAll, MAIN, type Sandbox, sandbox, startGw, supervised, until } from "../helpers/supervisor.ts";

const FIRST_BYTE_MS = 60_000;
let sb: Sandbox;
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
  if (sb) await killAll(sb);
});

const status = () => controlJson<StatusReport>(gwPaths(sb.dir), "/status");
const instance = async (name: string) => (await status()).instances.find((i) => i.name === name);

const chat = (model: string, stream: boolean, fault = "") => chatThrough(sb, model, stream, fault);

/** While this file exists, instance a's wrapper waits before it starts gw mock. */
const gate = () => join(sb.dir, "hold-a-start");

/** `send` while a is held at its gate; once gw holds the request (in flight, a not started), open the gate. */
async function whileDown(send: () => Promise<Response>): Promise<Response> {
  const pending = send();
  await until(async () => ((await status()).lb?.inFlight ?? 0) >= 1, 15_000, () => "the request held in gw");
  expect((await instance("a"))?.state).not.toBe("ready");
  rmSync(gate());
  return pending;
}

function expectWhole(text: string, events: number) {
  expect(text).not.toContain("stream broke");
  expect(text).not.toContain('"error"');
  expect(text.match(/"content":/g)?.length ?? 0).toBeGreaterThanOrEqual(events);
  expect(text.trimEnd()).toEndWith("data: [DONE]");
}

/** The request-log record of a response (by its x-gw-request-id). */
async function recordOf(res: Response): Promise<RequestRecord> {
  const id = res.headers.get("x-gw-request-id");
  const [r] = await logRecords(sb.dir, 1, (x) => x.id === id);
  return r!;
}

describe("requests wait for an instance on its way back", () => {
  test("during gw restart of the only instance, across a reload that moves its port, for a crash respawn, not through a crash loop", async () => {
    sb = await sandbox([{ name: "a" }, { name: "b" }], `lb_first_byte_timeout_ms = ${FIRST_BYTE_MS}\nshutdown_grace_ms = 20000`);
    // Instance a starts only once the gate is open: a restart or respawn with the gate closed leaves it down until then.
    const slow = join(sb.dir, "gated-mock.sh");
    writeFileSync(slow, `#!/bin/sh\nwhile [ -e "${gate()}" ]; do sleep 0.05; done\nexec "${process.execPath}" "${MAIN}" mock "$@"\n`);
    chmodSync(slow, 0o755);
    const toml = readFileSync(sb.file, "utf8")
      .replace("shutdown_grace_ms = 15000\n", "")
      .replace(/(\[instances\.a\]\nport = \d+\n)/, `$1command = ["${slow}", "-config", "{config}"]\n`);
    // Route "ma" lives on instance a alone.
    writeFileSync(sb.file, `${toml}"ma" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }]\n`);
    expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);

    // 1. gw restart a: a request sent while a is down waits for it and gets a whole answer.
    const oldPid = (await instance("a"))!.pid;
    writeFileSync(gate(), "");
    const restart = startGw(sb, ["restart", "a", "-c", sb.file]);
    await until(async () => (await instance("a"))?.state === "starting", 15_000, () => "a restarting");
    const during = await whileDown(() => chat("ma", true, "events=20"));
    expect(during.status).toBe(200);
    expect(during.headers.get("x-gw-target")).toStartWith("a/");
    expectWhole(await during.text(), 20);
    expect(await restart.proc.exited).toBe(0);
    expect((await instance("a"))!.pid).not.toBe(oldPid);
    const held = (await recordOf(during)).routing.attempts;
    expect(held).toHaveLength(1);
    expect(held[0]!.held_ms).toBeGreaterThan(0);

    // 2. A reload that moves a to another port: the stream running on it finishes whole, and a
    // request sent during the reload waits for a on its new port. The stream (4 s) need only
    // outlast gw reload's start and its 'waiting for' line (~0.3 s idle).
    const running = followStream(await chat("ma", true, "interval=100~events=40"));
    await until(() => running.chunks > 0, 10_000, () => "the stream under way");
    const [newPort] = await freePorts(1);
    writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace(`port = ${sb.ports.a}\n`, `port = ${newPort}\n`));
    const reload = startGw(sb, ["reload", "-c", sb.file]);
    await until(() => readFileSync(gwPaths(sb.dir).gwLog, "utf8").includes("a: port or command changed, restarting"), 15_000, () => "the reload relaunching a");
    // gw reload says what it waits for while it waits (it printed nothing until the drain ended).
    await reload.waitFor(/^a: waiting for 1 request\(s\) in flight to finish \(up to 20\.0 s\)/m);
    expect(running.text).not.toContain("[DONE]");
    const across = await chat("ma", false);
    expect(across.status).toBe(200);
    expect(((await across.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toContain("instance a");
    expectWhole(await running.done, 40);
    expect(await reload.proc.exited).toBe(0);
    expect(reload.output()).toMatch(/\na: restarted after 1 request\(s\) in flight finished \(\d+\.\d s\), ready in \d+\.\d s\nconfig reloaded\n$/);
    expect((await instance("a"))!.port).toBe(newPort!);
    expect((await recordOf(across)).routing.attempts[0]!.held_ms).toBeGreaterThan(0);

    // --json: the answer as before, with the instances the reload restarted.
    const [portAgain] = await freePorts(1);
    writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace(`port = ${newPort}\n`, `port = ${portAgain}\n`));
    const json = await gw(sb, ["reload", "--json", "-c", sb.file]);
    expect(json.code).toBe(0);
    const answer = JSON.parse(json.stdout) as { ok: boolean; problems: string[]; restarted: { name: string; ok: boolean }[] };
    expect(answer).toMatchObject({ ok: true, problems: [], restarted: [{ name: "a", ok: true }] });

    // 3. a crashes: a request sent before its respawn answers waits for the respawn.
    const crashed = (await instance("a"))!.pid!;
    writeFileSync(gate(), "");
    process.kill(crashed, "SIGKILL");
    await until(async () => (await instance("a"))?.state !== "ready", 15_000, () => "gw seeing a gone");
    const respawned = await whileDown(() => chat("ma", true, "events=20"));
    expect(respawned.status).toBe(200);
    expectWhole(await respawned.text(), 20);
    expect((await instance("a"))!.pid).not.toBe(crashed);
    expect((await recordOf(respawned)).routing.attempts[0]!.held_ms).toBeGreaterThan(0);

    // 4. An instance that crash-loops: each request waits at most for one start — the next exit
    // sends it on to the usual error — and once the supervisor calls it a crash loop, not at all.
    const crash = crashingScript(sb.dir);
    writeFileSync(
      sb.file,
      `${readFileSync(sb.file, "utf8").replace("[routing]", `[instances.c]\nport = ${(await freePorts(1))[0]}\ncommand = ["${crash}"]\nproviders = [{ type = "antigravity" }]\n\n[routing]`)}"mc" = [{ instance = "c", provider = "antigravity", model = "gemini-3-flash" }]\n`,
    );
    const added = await gw(sb, ["reload", "-c", sb.file]);
    // Applied (gw reload's verdict on c itself — exit 1, "c is not running" — depends on the
    // moment it asks, a crash loop restarting c every 0.5 s: restart-drain.test.ts tests it).
    expect(added.stderr).toBe("");
    expect(added.stdout).toMatch(/^config reloaded\n$|\nconfig reloaded, but c is not running \(above\)\n$/);
    const answers: Response[] = [];
    await until(
      async () => {
        const t0 = Date.now();
        const r = await chat("mc", false);
        // Far below the first-byte timeout: the supervisor's word, not the deadline, ended the wait.
        expect(Date.now() - t0).toBeLessThan(FIRST_BYTE_MS / 2);
        expect(r.status).toBe(502);
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe("upstream_unreachable");
        answers.push(r);
        return (await instance("c"))?.state === "crashloop";
      },
      60_000,
      () => "c called a crash loop",
    );
    const waited = await Promise.all(answers.map(recordOf));
    expect(waited.some((r) => (r.routing.attempts[0]!.held_ms ?? 0) > 0)).toBe(true);
    const inLoop = await chat("mc", false);
    expect(inLoop.status).toBe(502);
    await inLoop.arrayBuffer();
    expect((await recordOf(inLoop)).routing.attempts[0]!.held_ms).toBeUndefined();
  }, 120_000);
});

describe("a connection to an instance this gw runs that fails before any answer asks the supervisor first", () => {
  test("an instance killed before the supervisor saw it (adopted: its poll is far off; a child: its exit event races): the request waits for the respawn, gets a whole answer, the target is not cooled", async () => {
    const box = await sandbox([{ name: "a" }]);
    cleanups.push(() => killAll(box));
    const { config, lines, deps } = await supervised(box);
    const { log } = deps;
    // The predecessor of an upgrade: starts a, then hands it on (releaseAll) as an upgrade does.
    const before = new InstanceSet(config, { ...deps, timing: { ...DEFAULT_TIMING, readyTimeoutMs: 15_000 } });
    expect((await before.startAll()).get("a")?.ok).toBe(true);
    const pid = before.get("a")!.child!.pid;
    const startTime = (await procInfo(pid))!.startTime;
    before.releaseAll();
    // The successor adopts it. Its poll is far longer than the test, so only the LB's look can
    // see a's death: the request is sure to meet the dead port before the supervisor knows.
    let gateway: RunningGateway | undefined;
    const set = new InstanceSet(config, {
      ...deps,
      timing: { ...DEFAULT_TIMING, readyTimeoutMs: 15_000, backoffMinMs: 200, adoptedPollMs: 600_000 },
      availability: (name, a) => gateway?.availability(name, a),
    });
    cleanups.push(() => set.stopAll());
    expect((await set.adopt([{ name: "a", pid, startTime, launch: set.launchKeyOf(set.get("a")!) }])).adopted).toEqual(["a"]);
    gateway = startGateway(config, { hostname: "127.0.0.1", port: 0, log, look: async (name) => set.get(name)?.look() });
    cleanups.push(() => gateway!.stop(0));
    const a = set.get("a")!;
    await until(() => a.state === "ready", 15_000, () => `a adopted and ready: ${lines.join("\n")}`);
    gateway.availability("a", a.availability);

    // One answer first: gw's pooled connection to a is open, so a's death shows as a reset on it
    // (or a refusal, when the pool opens a new one) — both before any answer.
    await (await chatThrough({ mainPort: gateway.port }, "m", false)).arrayBuffer();
    process.kill(pid, "SIGKILL");
    await until(async () => (await procInfo(pid)) === null, 5_000, () => "a's process gone");
    expect(a.state).toBe("ready"); // the supervisor has not noticed
    const res = await chatThrough({ mainPort: gateway.port }, "m", true, "events=10");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-gw-target")).toStartWith("a/");
    expectWhole(await res.text(), 10);
    expect(a.child!.pid).not.toBe(pid); // answered by the respawned a
    expect(lines.some((l) => l.startsWith("instance 'a' exited"))).toBe(true);
    expect(gateway.coolingList(Date.now())).toEqual([]);
    const id = res.headers.get("x-gw-request-id");
    const [rec] = await logRecords(box.dir, 1, (x) => x.id === id);
    expect(rec!.routing.attempts).toHaveLength(1);
    expect(rec!.routing.attempts[0]!.class).toBe("ok");
    expect(rec!.routing.attempts[0]!.held_ms).toBeGreaterThan(0);

    // Now a is this set's own child: killed and asked for at once, it answers whole whether the
    // exit event or the LB's look comes first.
    await until(() => a.state === "ready", 15_000, () => `a respawned and ready: ${lines.join("\n")}`);
    const child = a.child!.pid;
    process.kill(child, "SIGKILL");
    const again = await chatThrough({ mainPort: gateway.port }, "m", true, "events=10");
    expect(again.status).toBe(200);
    expectWhole(await again.text(), 10);
    expect(a.child!.pid).not.toBe(child);
    expect(gateway.coolingList(Date.now())).toEqual([]);

    // An instance down for good (stopped: nothing respawns it) is not waited for: the refusal is judged at once.
    await set.stopAll();
    const refused = await chatThrough({ mainPort: gateway.port }, "m", false);
    expect(refused.status).toBe(502);
    await refused.arrayBuffer();
    const [judged] = await logRecords(box.dir, 1, (x) => x.id === refused.headers.get("x-gw-request-id"));
    expect(judged!.routing.attempts.map((x) => x.held_ms)).toEqual([undefined]); // judged at once: not held for a start
  }, 60_000);
});
