// InstanceSet with real child processes (gw mock behind a wrapper script) and short timings.
import { afterAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config/index.ts";
import type { Config } from "../../src/config/types.ts";
import { withInstanceKeys, writeInstanceFiles } from "../../src/instances/index.ts";
import { InstanceSet, sameLaunch } from "../../src/supervisor/instances.ts";
import { freePort } from "../helpers/ports.ts";
import { DEFAULT_TIMING, type Timing } from "../../src/supervisor/timing.ts";
import { alive, crashingScript, killAll, MAIN, OWN_NAME, processesIn, type Sandbox, sandbox, supervised, until } from "../helpers/supervisor.ts";

const FAST: Timing = { ...DEFAULT_TIMING, readyTimeoutMs: 15_000, backoffMinMs: 50, killWaitMs: 3_000, crashLoopRetryMs: 60_000 };

const sandboxes: Sandbox[] = [];
const sets: InstanceSet[] = [];
afterAll(async () => {
  await Promise.all(sets.map((s) => s.stopAll()));
  for (const sb of sandboxes) await killAll(sb);
});

async function setUp(sb: Sandbox, timing: Timing = FAST): Promise<{ set: InstanceSet; lines: string[]; config: Config }> {
  sandboxes.push(sb);
  const { config, lines, deps } = await supervised(sb);
  const set = new InstanceSet(config, { ...deps, timing });
  sets.push(set);
  return { set, lines, config };
}

describe("InstanceSet", () => {
  test("starts every instance, reports progress, restarts one killed with SIGKILL within 2 s", async () => {
    const { set, lines } = await setUp(await sandbox());
    const outcomes = await set.startAll();
    expect([...outcomes.values()].map((o) => o.ok)).toEqual([true, true]);
    expect(lines.some((l) => /^a: started pid \d+ on port \d+$/.test(l))).toBe(true);
    expect(lines.some((l) => /^b: ready in \d+\.\d s$/.test(l))).toBe(true);

    const a = set.get("a")!;
    const oldPid = a.child!.pid;
    process.kill(oldPid, "SIGKILL");
    // A restart means a new process within 2 s (backoff 50 ms here; 0.5 s by default).
    await until(() => a.child !== null && a.child.pid !== oldPid, 2_000, () => `restart of a: ${lines.join("\n")}`);
    expect(a.restarts).toBe(1);
    expect(a.lastExit?.signal).toBe("SIGKILL");
    await until(() => a.state === "ready", 15_000, () => `a state ${a.state}`);
    expect(set.get("b")!.restarts).toBe(0);

    const pids = set.list().map((s) => s.child!.pid);
    await set.stopAll();
    for (const pid of pids) expect(await alive(pid)).toBe(false);
    expect(set.list().map((s) => s.state)).toEqual(["stopped", "stopped"]);
  }, 60_000);

  test("a relaunch that fails with an error launch() does not expect (EMFILE) is said and tried again, not left down for good", async () => {
    const sb = await sandbox([{ name: "a" }]);
    sandboxes.push(sb);
    const { config, lines, deps } = await supervised(sb);
    // The log file's path is asked at every launch (and when an exit is reported): the respawn's launch meets gw out of file handles, once.
    let armed = false;
    let launches = 0;
    const logFile = (n: string) => {
      if (new Error().stack?.includes("at launch ")) {
        launches++;
        if (armed) {
          armed = false;
          throw new Error("EMFILE: too many open files");
        }
      }
      return deps.logFile(n);
    };
    const set = new InstanceSet(config, { ...deps, logFile, timing: { ...FAST, backoffMaxMs: 300 } });
    sets.push(set);
    expect((await set.startAll()).get("a")!.ok).toBe(true);
    const a = set.get("a")!;
    const oldPid = a.child!.pid;
    armed = true;
    process.kill(oldPid, "SIGKILL");
    await until(() => a.problem.includes("EMFILE"), 10_000, () => `the failed relaunch said: ${lines.join("\n")}`);
    expect(a.problem).toBe("instance 'a' could not be restarted: EMFILE: too many open files — gw tries again in 0.3 s");
    await until(() => a.state === "ready" && a.child !== null && a.child.pid !== oldPid, 15_000, () => `a back after the failed relaunch: state ${a.state}: ${lines.join("\n")}`);
    expect(launches).toBe(3);
  }, 60_000);

  test("an upgrade's adoption compares port and command line only: an older gw's launch record (with the logs' display line) is the same launch", () => {
    const argv = ["/opt/cli-proxy-api", "-config", "/srv/gw/instances/a.yaml"];
    const now = JSON.stringify([8146, argv]);
    // As gw wrote it before 2026-12-04: the display line beside the argv, here in another spelling.
    expect(sameLaunch(JSON.stringify([8146, { argv, shown: "something else entirely" }]), now)).toBe(true);
    expect(sameLaunch(now, now)).toBe(true);
    expect(sameLaunch(JSON.stringify([8146, { argv: [...argv, "-extra"], shown: "x" }]), now)).toBe(false);
    expect(sameLaunch(JSON.stringify([8147, argv]), now)).toBe(false);
    expect(sameLaunch("not json", now)).toBe(false);
  });

  test("an instance that keeps exiting goes into crashloop and its output lands in its log", async () => {
    const sb = await sandbox([{ name: "c", command: ["./crash.sh", "-config", "{config}", "-port", "{port}"] }]);
    crashingScript(sb.dir);
    const { set, lines } = await setUp(sb);
    const out = await set.startAll();
    expect(out.get("c")!.ok).toBe(false);
    const c = set.get("c")!;
    await until(() => c.state === "crashloop", 20_000, () => `state ${c.state}: ${lines.join("\n")}`);
    expect(c.restarts).toBe(FAST.crashLoopExits - 1);
    expect(c.lastExit?.code).toBe(3);
    expect(lines.some((l) => l.includes("crash loop (5 exits in a minute)"))).toBe(true);
    // Own working directory, gw's environment, the YAML's absolute path and the port filled in.
    expect(readFileSync(join(sb.dir, "logs", "c.log"), "utf8")).toContain(
      `crashing on purpose in ${join(sb.dir, "instances", "c")} with GW_TEST_MARK=inherited and -config ${join(sb.dir, "instances", "c.yaml")} -port ${sb.ports.c}`,
    );
  }, 60_000);

  test("a missing binary and a busy port are one clear line each; the other instance still starts", async () => {
    const busy = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("taken") });
    try {
      const sb = await sandbox([{ name: "nobin", command: ["/nonexistent/cli-proxy-api", "-config", "{config}"] }, { name: "busy", port: busy.port }, { name: "ok" }, { name: "str", command: ["sleep 1000"] }]);
      const { set } = await setUp(sb);
      const out = await set.startAll();
      expect(out.get("ok")!.ok).toBe(true);
      const nobin = set.get("nobin")!;
      expect(nobin.state).toBe("failed");
      expect(nobin.problem).toBe("command of instance 'nobin' not found: /nonexistent/cli-proxy-api — fix [instances.nobin] command or install it");
      // One string: the program "sleep 1000" does not exist, though sleep does; the line says to split it.
      expect(set.get("str")!.problem).toBe(`command of instance 'str' not found: sleep 1000 — gw runs no shell: write [instances.str] command = ["sleep", "1000"]`);
      const b = set.get("busy")!;
      expect(b.problem).toBe(`port ${busy.port} of instance 'busy' is in use by pid ${process.pid} (${OWN_NAME}) — change [instances.busy] port or stop that process (gw looks again every ${DEFAULT_TIMING.portRetryMs / 1000} s)`);
      // As said once gw gave up and stopped: no look again that will never come.
      expect(b.problemOnceStopped).toBe(`port ${busy.port} of instance 'busy' is in use by pid ${process.pid} (${OWN_NAME}) — change [instances.busy] port or stop that process`);
      expect(b.child).toBeNull();
    } finally {
      busy.stop(true);
    }
  }, 60_000);

  test("a port held for a while is waited for, not counted as crashes: the instance starts soon after it is freed", async () => {
    // Two holders in turn (SO_REUSEPORT, so the port is never free between them): the line
    // naming the second proves gw looked again; with crashLoopExits 2 the old rule had by then
    // put the instance into a crash loop, to be retried only after crashLoopRetryMs (60 s here).
    const hold = async (port: number) => {
      const p = Bun.spawn([process.execPath, "-e", `Bun.serve({ hostname: "127.0.0.1", port: ${port}, reusePort: true, fetch: () => new Response("taken") }); console.log("holding")`], { stdout: "pipe", stderr: "inherit" });
      holders.push(p);
      const { value } = await p.stdout.getReader().read(); // "holding": it listens
      expect(new TextDecoder().decode(value)).toContain("holding");
      return p;
    };
    const holders: Subprocess[] = [];
    const port = await freePort();
    try {
      const first = await hold(port);
      const sb = await sandbox([{ name: "p", port }]);
      const timing: Timing = { ...FAST, crashLoopExits: 2, portRetryMs: 100 };
      const { set, lines } = await setUp(sb, timing);
      expect((await set.startAll()).get("p")!.ok).toBe(false);
      const p = set.get("p")!;
      expect(p.problem).toContain(`by pid ${first.pid}`);
      const second = await hold(port);
      first.kill("SIGKILL");
      await until(() => p.problem.includes(`by pid ${second.pid}`), 10_000, () => `problem: ${p.problem}`);
      expect(p.state).toBe("backoff");
      expect(p.restarts).toBe(0); // nothing was started, so nothing was restarted
      second.kill("SIGKILL");
      await until(() => p.state === "ready", 10_000, () => `state ${p.state}: ${lines.join("\n")}`);
      expect(lines.filter((l) => l.includes("crash loop"))).toEqual([]);
    } finally {
      for (const h of holders) h.kill("SIGKILL");
    }
  }, 60_000);

  test("an instance that ignores SIGTERM is killed killWaitMs later, its whole group with it", async () => {
    // The shell ignores SIGTERM (and so does every sleep it starts); only gw mock, which handles
    // the signal itself, stops on it. Without the SIGKILL the stop would wait for ever.
    const sb = await sandbox([{ name: "s", command: ["./stubborn.sh", "-config", "{config}", "-port", "{port}"] }]);
    const script = join(sb.dir, "stubborn.sh");
    writeFileSync(script, `#!/bin/sh\ntrap '' TERM\n"${process.execPath}" "${MAIN}" mock "$@" &\nwhile :; do sleep 0.2; done\n`);
    chmodSync(script, 0o755);
    const timing: Timing = { ...FAST, killWaitMs: 1_000 };
    const { set } = await setUp(sb, timing);
    expect((await set.startAll()).get("s")!.ok).toBe(true);
    const started = performance.now();
    await set.stopAll();
    expect(performance.now() - started).toBeGreaterThanOrEqual(timing.killWaitMs - 50);
    expect(set.get("s")!.lastExit?.signal).toBe("SIGKILL");
    await until(async () => (await processesIn(sb.dir)).length === 0, 5_000, () => "processes left in the sandbox");
  }, 60_000);

  test("no CLIProxyAPI binary at all: the line says how to set it", async () => {
    const sb = await sandbox([{ name: "x" }]);
    const { set, config } = await setUp(sb);
    const noBinary = { ...config, global: { ...config.global, cliproxy: join(sb.dir, "missing-cliproxy") } };
    await set.reconcile(noBinary).follow(() => {}); // same port; the launch changed → restart, which now fails
    expect(set.get("x")!.state).toBe("failed");
    expect(set.get("x")!.problem).toContain("CLIProxyAPI binary for instance 'x' not found");
    expect(set.get("x")!.problem).toBe(
      `CLIProxyAPI binary for instance 'x' not found ([global] cliproxy names ${join(sb.dir, "missing-cliproxy")}, which does not exist) — get it with: gw cliproxy install — or point $GW_CLIPROXY or [global] cliproxy = "/path/to/cli-proxy-api" at one`,
    );
  }, 60_000);

  test("reconcile starts added, stops removed, leaves unchanged instances running", async () => {
    const sb = await sandbox([{ name: "a" }, { name: "b" }]);
    const { set, config } = await setUp(sb);
    await set.startAll();
    const aPid = set.get("a")!.child!.pid;
    const bPid = set.get("b")!.child!.pid;
    const other = await sandbox([{ name: "c" }]);
    sandboxes.push(other);
    const cLoaded = (await loadConfig(other.file, { env: other.env })).config!;
    const c = { ...cLoaded.instances[0]!, authDir: join(sb.dir, "auths", "c") };
    const next: Config = { ...config, instances: [config.instances[0]!, c] };
    await writeInstanceFiles(await withInstanceKeys(next));
    await set.reconcile(await withInstanceKeys(next)).follow(() => {});
    expect(set.list().map((s) => s.name)).toEqual(["a", "c"]);
    expect(set.get("a")!.child!.pid).toBe(aPid);
    expect(await alive(bPid)).toBe(false);
    expect(set.get("c")!.state).toBe("ready");
  }, 60_000);
});
