// A reload that moves or removes an instance while it is still starting (launched, not ready yet)
// abandons that start at once: the process stops, no "did not answer" is said, and a moved
// instance is launched on its new port — not after the old start's readiness timeout (30 s;
// before the fix: ready on the new port 30.2 s after the reload, a request held 30.2 s). A request
// held for the instance meanwhile is answered by the new launch. Real gw, real instances (gw mock
// behind a wrapper that waits to start while a gate file for its port exists: a start on a gated
// port never ends, however busy the machine).
import { afterEach, expect, test } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RequestRecord } from "../../src/observe/record.ts";
import { controlJson } from "../../src/supervisor/control.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";
import type { StatusReport } from "../../src/supervisor/status.ts";
import { DEFAULT_TIMING } from "../../src/supervisor/timing.ts";
import { freePorts } from "../helpers/ports.ts";
import { logRecords } from "../helpers/resilience.ts";
import { alive, chatThrough, gw, killAll, MAIN, type RunningGw, type Sandbox, sandbox, startGw, timesLogged, until, untilLogged, withGwLog } from "../helpers/supervisor.ts";

let sb: Sandbox;
afterEach(async () => {
  if (sb) await killAll(sb);
});

/** Well inside the readiness timeout that a start nobody abandons lasts. */
const PROMPTLY_MS = DEFAULT_TIMING.readyTimeoutMs / 2;

const status = () => controlJson<StatusReport>(gwPaths(sb.dir), "/status");
const instanceA = async () => (await status()).instances.find((i) => i.name === "a");

const edit = (change: (toml: string) => string) => writeFileSync(sb.file, change(readFileSync(sb.file, "utf8")));
const movePort = (from: number, to: number) => edit((t) => t.replace(`port = ${from}\n`, `port = ${to}\n`));
const reload = () => startGw(sb, ["reload", "-c", sb.file]);
/**
 * An edit, then `gw reload` — which returns once gw has applied the edit both ways, its file
 * watcher's reload and this one's: only then may the next edit come. Beside two CPU hogs a
 * `gw reload` (a bun process starting) reached gw after the next edit, reloaded that one
 * instead, and said so rather than what the test waits for.
 */
async function editThenReload(change: () => void): Promise<RunningGw> {
  const before = timesLogged(sb, "config reloaded from");
  change();
  const r = reload();
  await untilLogged(sb, "config reloaded from", before + 2);
  return r;
}

/** A wrapper for instance a whose launch waits while hold-PORT exists (it is given -port PORT as its 4th argument). */
function gatedCommand(): string {
  const gated = join(sb.dir, "gated-mock.sh");
  writeFileSync(gated, `#!/bin/sh\nwhile [ -e "${sb.dir}/hold-$4" ]; do sleep 0.05; done\nexec "${process.execPath}" "${MAIN}" mock "$@"\n`);
  chmodSync(gated, 0o755);
  return `command = ["${gated}", "-config", "{config}", "-port", "{port}"]\n`;
}

/** Instance a launched on `port`, which is gated: the pid of its start, which never ends. */
async function stuckOn(port: number): Promise<number> {
  await until(async () => {
    const a = await instanceA();
    return a?.port === port && a.state === "starting" && a.pid !== null;
  }, 15_000, () => `a starting on port ${port}`);
  return (await instanceA())!.pid!;
}

async function readyOn(port: number): Promise<number> {
  const t0 = performance.now();
  await until(async () => {
    const a = await instanceA();
    return a?.port === port && a.state === "ready";
  }, PROMPTLY_MS, () => `a ready on port ${port}`);
  return Math.round(performance.now() - t0);
}

async function exitedPromptly(...reloads: RunningGw[]): Promise<void> {
  await until(() => reloads.every((r) => r.proc.exitCode !== null), PROMPTLY_MS, () => "the gw reloads to end");
  expect(reloads.map((r) => r.proc.exitCode)).toEqual(reloads.map(() => 0));
}

function expectNoFalseAlarm(): void {
  const log = readFileSync(gwPaths(sb.dir).gwLog, "utf8");
  expect(log).not.toContain("did not answer");
  expect(log).not.toContain("exited");
}

/** Route "ma" lives on instance a alone. */
const withRouteMa = (toml: string) => `${toml}"ma" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }]\n`;

test("a reload moving an instance that is still starting abandons that start and launches it on its new port at once", async () => {
  sb = await sandbox([{ name: "a" }, { name: "b" }], "lb_first_byte_timeout_ms = 60000");
  edit((t) => withRouteMa(t.replace(/(\[instances\.a\]\nport = \d+\n)/, `$1${gatedCommand()}`)));
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);

  await withGwLog(sb, async () => {
    // 1. Moved to p1, where its start never ends.
    const [p1, p2] = await freePorts(2);
    writeFileSync(join(sb.dir, `hold-${p1}`), "");
    const first = await editThenReload(() => movePort(sb.ports.a!, p1!));
    const stuck = await stuckOn(p1!);

    // 2. A request for a waits for it.
    const held = chatThrough(sb, "ma", false);
    void held.catch(() => {}); // awaited below; a failure before that must not surface apart
    await until(async () => ((await status()).lb?.inFlight ?? 0) >= 1, 15_000, () => "the request held in gw");

    // 3. Moved again while that start runs: a is ready on p2 long before the stuck start's timeout.
    movePort(p1!, p2!);
    const second = reload();
    console.log(`reload to a ready on its new port: ${await readyOn(p2!)} ms`);
    expect(await alive(stuck)).toBe(false);

    const res = await held;
    expect(res.status).toBe(200);
    expect(res.headers.get("x-gw-target")).toStartWith("a/");
    expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toContain("instance a");
    const id = res.headers.get("x-gw-request-id");
    const [record] = await logRecords(sb.dir, 1, (r: RequestRecord) => r.id === id);
    expect(record!.routing.attempts).toHaveLength(1);
    console.log(`request held for ${record!.routing.attempts[0]!.held_ms} ms`);

    await exitedPromptly(first, second);
    expect(second.output()).toMatch(/^a: restarted, ready in [\d.]+ s\nconfig reloaded\n$/);
    // The first reload hears its start given up for the second's, then a come back.
    expect(first.output()).toMatch(/^a: a later reload changed it meanwhile — its restart follows\na: restarted, ready in [\d.]+ s\nconfig reloaded\n$/);
    expectNoFalseAlarm();
    // Two relaunches (the moves), no crash respawn.
    expect((await instanceA())!.restarts).toBe(2);
  });
  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
}, 90_000);

test("a reload removing an instance that is still starting stops it at once", async () => {
  sb = await sandbox([{ name: "a" }, { name: "b" }], "");
  edit((t) => t.replace(/(\[instances\.a\]\nport = \d+\n)/, `$1${gatedCommand()}`));
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);

  await withGwLog(sb, async () => {
    const [p1] = await freePorts(1);
    writeFileSync(join(sb.dir, `hold-${p1}`), "");
    const first = await editThenReload(() => movePort(sb.ports.a!, p1!));
    const stuck = await stuckOn(p1!);
    edit((t) => t.replace(/\[instances\.a\][\s\S]*?(?=\[instances\.b\])/, "").replace('{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }, ', ""));
    const second = reload();
    await exitedPromptly(first, second);
    expect(await alive(stuck)).toBe(false);
    expect(await instanceA()).toBeUndefined();
    expect(first.output()).toMatch(/^a: a later reload changed it meanwhile — its stop follows\n/);
    expectNoFalseAlarm();
  });
}, 90_000);

test("a reload moving an instance another reload added, while it is still starting, launches it on its new port at once", async () => {
  sb = await sandbox([{ name: "b" }], "");
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);

  await withGwLog(sb, async () => {
    const [p1, p2] = await freePorts(2);
    writeFileSync(join(sb.dir, `hold-${p1}`), "");
    const first = await editThenReload(() => edit((t) => withRouteMa(t.replace("[routing]", `[instances.a]\nport = ${p1}\n${gatedCommand()}providers = [{ type = "antigravity" }]\n\n[routing]`))));
    const stuck = await stuckOn(p1!);
    movePort(p1!, p2!);
    const second = reload();
    console.log(`reload to the added a ready on its new port: ${await readyOn(p2!)} ms`);
    expect(await alive(stuck)).toBe(false);
    await exitedPromptly(first, second);
    expect(first.output()).toMatch(/^a: a later reload changed it meanwhile — its restart follows\na: restarted, ready in [\d.]+ s\nconfig reloaded\n$/);
    expectNoFalseAlarm();
    const onA = await chatThrough(sb, "ma", false);
    expect(onA.status).toBe(200);
    await onA.arrayBuffer();
  });
}, 90_000);
