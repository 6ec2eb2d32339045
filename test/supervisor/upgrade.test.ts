// `gw upgrade`: a running gw hands over to a new process under a load of concurrent streams —
// 0 failed requests, 0 cut streams, 0 refused connections — and the instances are adopted, not
// restarted. A hand-over that cannot happen leaves the old gw serving as before.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { hostTarget } from "../../src/release/targets.ts";
import type { StatusReport } from "../../src/supervisor/status.ts";
import { streamLoad } from "../helpers/stream-load.ts";
import { freePorts } from "../helpers/ports.ts";
import { alive, chatThrough, followStream, gw, killAll, MAIN, processesIn, type Sandbox, sandbox, timesLogged, until, untilLogged } from "../helpers/supervisor.ts";

const cleanups: Sandbox[] = [];
afterAll(async () => {
  for (const sb of cleanups) await killAll(sb);
});

/** Instances that stream 20 events 100 ms apart: each stream is open ~2 s, long enough to span the hand-over. */
const slowMock = (name: string) => ({ name, command: [process.execPath, MAIN, "mock", "-config", "{config}", "--events", "20", "--interval", "100"] });

async function status(sb: Sandbox): Promise<StatusReport> {
  const r = await gw(sb, ["status", "--json", "-c", sb.file]);
  if (r.code !== 0) throw new Error(`gw status failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as StatusReport;
}

const STREAM_WORKERS = 40;

describe("gw upgrade", () => {
  test("under a load of concurrent streams: 0 failed, 0 cut, 0 refused; instances adopted, not restarted", async () => {
    const sb = await sandbox([slowMock("a"), slowMock("b")]);
    cleanups.push(sb);
    const up = await gw(sb, ["up", "-d", "-c", sb.file]);
    expect(up.code).toBe(0);
    const before = await status(sb);
    const instancePids = Object.fromEntries(before.instances.map((i) => [i.name, i.pid]));
    expect(Object.values(instancePids).every((p) => typeof p === "number")).toBe(true);

    const l = streamLoad(`http://127.0.0.1:${sb.mainPort}`, STREAM_WORKERS, 10);
    await until(() => l.figures.open >= STREAM_WORKERS / 2, 30_000, () => `streams open: ${l.figures.open}`);
    const openAtUpgrade = l.figures.open;
    const up2 = await gw(sb, ["upgrade", "--json", "-c", sb.file]);
    const out = JSON.parse(up2.stdout) as { ok: boolean; pid: number; version: string; problem?: string };
    expect(out).toMatchObject({ ok: true });
    expect(out.pid).not.toBe(before.pid);

    // The old gw finishes its streams, then exits; the new one serves with the same instances.
    await until(async () => !(await alive(before.pid)), 40_000, () => `old gw ${before.pid} still running`);
    const after = await status(sb);
    expect(after.pid).toBe(out.pid);
    expect(after.phase).toBe("serving");
    expect(Object.fromEntries(after.instances.map((i) => [i.name, i.pid]))).toEqual(instancePids);
    expect(after.instances.map((i) => i.state)).toEqual(["ready", "ready"]);
    expect(after.instances.map((i) => i.restarts)).toEqual([0, 0]);
    for (const pid of Object.values(instancePids)) expect(await alive(pid!)).toBe(true);
    // Traffic goes on through the new gw for a moment before the load stops.
    const servedBefore = after.lb?.requests ?? 0;
    await until(async () => ((await status(sb)).lb?.requests ?? 0) > servedBefore + 20, 30_000, () => "no requests through the new gw");
    await l.stop();

    const f = l.figures;
    console.log(`upgrade under load: ${openAtUpgrade} streams open at the hand-over; ${f.streamsOk} streams complete, ${f.ok} plain answers; failed ${f.failed.length}, cut ${f.cut.length}, refused ${f.refused.length}`);
    expect(openAtUpgrade).toBeGreaterThanOrEqual(STREAM_WORKERS / 2);
    expect(f.failed).toEqual([]);
    expect(f.cut).toEqual([]);
    expect(f.refused).toEqual([]);
    expect(f.streamsOk).toBeGreaterThan(STREAM_WORKERS);

    // The new gw owns everything now: down stops it and the adopted instances.
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
    await until(async () => !(await alive(instancePids.a!)) && !(await alive(instancePids.b!)), 20_000, () => "adopted instances still running after down");
  }, 180_000);

  for (const json of [false, true]) test(`gw down${json ? " --json" : ""} right after an upgrade: the previous gw's streams finish on the instances before they stop; down says it waits for that gw`, async () => {
    const sb = await sandbox([{ name: "a" }, { name: "b" }]);
    cleanups.push(sb);
    expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
    const old = (await status(sb)).pid;
    // ~3 s of stream, begun on the gw about to hand over.
    const running = followStream(await chatThrough(sb, "m", true, "interval=100~events=30"));
    await until(() => running.chunks > 0, 10_000, () => "the stream under way");
    const up2 = JSON.parse((await gw(sb, ["upgrade", "--json", "-c", sb.file])).stdout) as { ok: boolean };
    expect(up2.ok).toBe(true);
    const down = await gw(sb, ["down", ...(json ? ["--json"] : []), "-c", sb.file]);
    expect(down.code).toBe(0);
    // Bounded by the old gw's own limit from the hand-over: a late request's whole grace (15 s) after Bun's idle timeout (10 s), and a margin.
    let waitMs: number;
    if (json) {
      const answer = JSON.parse(down.stdout) as { stopped: boolean; previous?: { pid: number; wait_ms: number } };
      expect(answer).toMatchObject({ stopped: true, previous: { pid: old } });
      waitMs = answer.previous!.wait_ms;
    } else {
      const line = new RegExp(`^waiting for the previous gw \\(pid ${old}\\) first: it is still letting its streams finish on these instances \\(up to (\\d+) s\\)…$`, "m").exec(down.stdout);
      expect(line, down.stdout).not.toBeNull();
      waitMs = Number(line![1]) * 1000;
    }
    expect(waitMs).toBeGreaterThan(20_000);
    expect(waitMs).toBeLessThanOrEqual(31_000);
    const text = await running.done;
    expect(text).not.toContain("stream broke");
    expect(text.match(/"content":/g)?.length ?? 0).toBeGreaterThanOrEqual(30);
    expect(text.trimEnd()).toEndWith("data: [DONE]");
  }, 90_000);

  test("a new binary that cannot serve: the old gw keeps serving, its instances untouched", async () => {
    const sb = await sandbox([{ name: "a" }]);
    cleanups.push(sb);
    // Answers --version like a gw, then fails to start.
    const broken = join(sb.dir, "broken-gw");
    writeFileSync(broken, `#!/bin/sh\nif [ "$1" = --version ]; then echo '{"version":"9.9.9","commit":"abc"}'; exit 0; fi\necho "broken gw: cannot start" >&2\nexit 3\n`);
    chmodSync(broken, 0o755);
    expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
    const before = await status(sb);

    const r = await gw(sb, ["upgrade", broken, "-c", sb.file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("upgrade failed: the new gw");
    expect(r.stderr).toContain("exited with code 3");
    // One a signal ends names the signal (its exit code is none).
    const killed = join(sb.dir, "killed-gw");
    writeFileSync(killed, `#!/bin/sh\nif [ "$1" = --version ]; then echo '{"version":"9.9.9","commit":"abc"}'; exit 0; fi\nkill -KILL $$\n`);
    chmodSync(killed, 0o755);
    const k = await gw(sb, ["upgrade", killed, "-c", sb.file]);
    expect([k.code, /the new gw \(pid \d+\) (.*?) —/.exec(k.stderr)?.[1]]).toEqual([1, "was killed by SIGKILL"]);
    const notGw = await gw(sb, ["upgrade", "/bin/true", "-c", sb.file]);
    expect(notGw.code).toBe(1);
    expect(notGw.stderr).toContain("does not say a gw version");
    // gw for another platform (a Mach-O arm64 header) and a file that is no executable: said so, with what this host needs
    const mac = join(sb.dir, "gw-darwin-arm64");
    const header = new Uint8Array(4096);
    new DataView(header.buffer).setUint32(0, 0xfeedfacf, true);
    new DataView(header.buffer).setUint32(4, 0x0100000c, true);
    writeFileSync(mac, header);
    chmodSync(mac, 0o755);
    const foreign = await gw(sb, ["upgrade", mac, "-c", sb.file]);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain(`upgrade failed: ${mac} cannot run here: it is gw for darwin-arm64; this host needs ${hostTarget()}`);
    const text = join(sb.dir, "not-a-binary");
    writeFileSync(text, "echo hi\n".repeat(20));
    chmodSync(text, 0o755);
    expect((await gw(sb, ["upgrade", text, "-c", sb.file])).stderr).toContain(`${text} cannot run here: neither ELF nor 64-bit Mach-O: not a gw binary`);
    const folder = await gw(sb, ["upgrade", sb.dir, "-c", sb.file]);
    expect([folder.code, folder.stderr]).toEqual([1, `gw: ${sb.dir} is a directory\n  give the gw binary in it: gw upgrade ${sb.dir}/gw\n`]);

    const after = await status(sb);
    expect(after.pid).toBe(before.pid);
    expect(after.phase).toBe("serving");
    expect(after.instances[0]?.pid).toBe(before.instances[0]?.pid);
    const res = await fetch(`http://127.0.0.1:${sb.mainPort}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }) });
    expect(res.status).toBe(200);
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
    expect(await alive(before.instances[0]!.pid!)).toBe(false);
  }, 90_000);

  // gw.log is shared: the old gw, serving on, may write a line after the new gw's last one (deploy
  // replaced providers.toml and the old gw reloaded it). The reason given must still be the new gw's.
  test("upgraded right after an edit that moves an instance: the new gw supervises it on its new port, and gw down leaves nothing running", async () => {
    const sb = await sandbox([{ name: "a" }, { name: "b" }]);
    cleanups.push(sb);
    expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
    const before = await status(sb);
    const [moved] = await freePorts(1);
    // As a user (or gw deploy) does: save the edit, upgrade at once. The old gw's watcher sees the
    // edit as the upgrade begins: it applies it first, or leaves it to the new gw — never starts
    // an instance after the hand-over, which nobody would supervise.
    writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace(`port = ${sb.ports.b}\n`, `port = ${moved}\n`));
    const r = await gw(sb, ["upgrade", "--json", "-c", sb.file]);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true });
    await until(async () => !(await alive(before.pid)), 40_000, () => `old gw ${before.pid} still running`);
    await until(async () => (await status(sb)).instances.find((i) => i.name === "b")?.state === "ready", 30_000, () => "b not ready under the new gw");
    const after = await status(sb);
    expect(after.instances.find((i) => i.name === "b")).toMatchObject({ port: moved, state: "ready" });
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
    let left: number[] = [];
    await until(async () => (left = await processesIn(sb.dir)).length === 0, 20_000, () => `still running after gw down: ${left.join(", ")}`);
  }, 120_000);

  test("an older gw is taken (a rollback), and said so by gw upgrade and in the log; upgrading forward again is no rollback", async () => {
    const sb = await sandbox([{ name: "a" }]);
    cleanups.push(sb);
    expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
    const before = await status(sb);
    // A gw that says it is 0.0.1 and otherwise is this one.
    const older = join(sb.dir, "gw-0.0.1");
    writeFileSync(older, `#!/bin/sh\nif [ "$1" = --version ]; then echo '{"version":"0.0.1","commit":"0ld"}'; exit 0; fi\nexec "${process.execPath}" "${MAIN}" "$@"\n`);
    chmodSync(older, 0o755);
    const r = await gw(sb, ["upgrade", older, "-c", sb.file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("gw 0.0.1 (0ld) serves now as pid");
    expect(r.stderr).toContain(`gw: note: 0.0.1 is older than the gw it replaced (${pkg.version}): a rollback; to go forward again, gw upgrade NEWER-BINARY`);
    expect(readFileSync(join(sb.dir, "logs", "gw.log"), "utf8")).toContain(`upgrading to 0.0.1 (0ld), older than this gw's ${pkg.version}: starting ${older}`);
    await until(async () => !(await alive(before.pid)), 40_000, () => `old gw ${before.pid} still running`);
    // Forward again: the same version is no rollback.
    const again = await gw(sb, ["upgrade", "--json", "-c", sb.file]);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, version: pkg.version });
    expect(JSON.parse(again.stdout).older).toBeUndefined();
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
  }, 90_000);

  test("a new gw that cannot listen: the problem is its own reason, not a line the old gw wrote after it", async () => {
    const sb = await sandbox([{ name: "a" }]);
    cleanups.push(sb);
    expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
    const before = await status(sb);
    const squatter = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("squatter") });
    try {
      writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace(`main_port = ${sb.mainPort}`, `main_port = ${squatter.port}`));
      await untilLogged(sb, "config reloaded from");
      // The real gw, which fails on the taken port; then the config is edited before the "new gw"
      // exits: the old gw, handing over, does not reload meanwhile (no line of its own comes
      // after the new gw's), and does once the upgrade has failed.
      const successor = join(sb.dir, "gw-then-edit");
      writeFileSync(successor, `#!/bin/sh
if [ "$1" = --version ]; then exec "${process.execPath}" "${MAIN}" "$@"; fi
"${process.execPath}" "${MAIN}" "$@"
code=$?
echo "# touched" >> providers.toml
exit $code
`);
      chmodSync(successor, 0o755);
      const reloads = timesLogged(sb, "config reloaded from");
      const r = await gw(sb, ["upgrade", successor, "-c", sb.file]);
      expect(r.code).toBe(1);
      // Its own refusal, whole and once: not its hint line, nor "keeps serving" said twice.
      expect(r.stderr).toContain(`(gw: the load balancer could not listen on 127.0.0.1:${squatter.port} — change [global] main_port or stop what uses it) — see`);
      expect(r.stderr.split("keeps serving").length).toBe(2);
      expect(r.stderr).not.toContain("config reloaded");
      expect((await status(sb)).pid).toBe(before.pid);
      await untilLogged(sb, "config reloaded from", reloads + 1);
    } finally {
      squatter.stop(true);
    }
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
  }, 60_000);

  test("the port is shared only by a deliberate upgrade: a listener with SO_REUSEPORT on it makes gw up refuse", async () => {
    const sb = await sandbox([{ name: "a" }]);
    cleanups.push(sb);
    const squatter = Bun.serve({ hostname: "127.0.0.1", port: sb.mainPort, reusePort: true, fetch: () => new Response("squatter") });
    try {
      const r = await gw(sb, ["up", "-d", "-c", sb.file]);
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toContain(`port ${sb.mainPort} of the load balancer is in use`);
    } finally {
      squatter.stop(true);
    }
  }, 60_000);
});
