// `gw up` in the foreground as a real child process: progress, graceful stop with a stream in
// flight, no orphans after SIGTERM or after SIGKILL of gw, and the one-line start errors.
import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { cmdline } from "../../src/supervisor/proc.ts";
import { alive, MAIN, OWN_NAME, gw, killAll, processesIn, type RunningGw, type Sandbox, sandbox, startGw, startInGroup, until } from "../helpers/supervisor.ts";

const cleanups: Array<[Sandbox, RunningGw?]> = [];
afterAll(async () => {
  for (const [sb, g] of cleanups) await killAll(sb, g);
});

const pidsOf = (out: string) => [...out.matchAll(/: started pid (\d+)/g)].map((m) => Number(m[1]));

async function up(sb: Sandbox): Promise<RunningGw> {
  const g = startGw(sb, ["up", "-c", sb.file]);
  cleanups.push([sb, g]);
  await g.waitFor("serving on");
  return g;
}

describe("gw up", () => {
  test("with instances given by url only (a second replica): its start line counts them, not \"0/0 instances ready\"", async () => {
    const sb = await sandbox([]);
    writeFileSync(sb.file, `[global]\nhost = "127.0.0.1"\nmain_port = ${sb.mainPort}\n[instances.one]\nurl = "http://127.0.0.1:9"\nproviders = [{ type = "anthropic", api_keys = ["k"] }]\n[instances.two]\nurl = "http://127.0.0.1:10"\nproviders = [{ type = "anthropic", api_keys = ["k"] }]\n`);
    const g = await up(sb);
    expect(g.output()).toContain(`serving on http://127.0.0.1:${sb.mainPort} — 2 instances by url; status page`);
    expect(g.output()).not.toContain("0/0");
  });

  test("shows progress per instance, serves, and on SIGTERM finishes the stream in flight before stopping everything", async () => {
    const sb = await sandbox();
    const g = await up(sb);
    expect(g.output()).toMatch(/^a: started pid \d+ on port \d+$/m);
    expect(g.output()).toMatch(/^b: ready in \d+\.\d s$/m);
    expect(g.output()).toContain(`serving on http://127.0.0.1:${sb.mainPort} — 2/2 instances ready`);
    // A newcomer's first question after "serving": where the status page is.
    expect(g.output()).toContain(`status page http://127.0.0.1:${sb.mainPort}/_gw/`);
    const pids = pidsOf(g.output());

    const client = new Anthropic({ baseURL: `http://127.0.0.1:${sb.mainPort}`, apiKey: "unused", maxRetries: 0 });
    const stream = client.messages.stream(
      { model: "m", max_tokens: 100, messages: [{ role: "user", content: "count slowly" }] },
      { headers: { "x-mock-fault": "interval=150~events=16" } },
    );
    let deltas = 0;
    let signalled = false;
    stream.on("text", () => {
      deltas++;
      if (!signalled) {
        signalled = true;
        process.kill(g.proc.pid, "SIGTERM");
      }
    });
    const message = await stream.finalMessage();
    expect(signalled).toBe(true);
    expect(deltas).toBe(16);
    expect(message.stop_reason).toBe("end_turn");
    // New connections are refused while the stream drains.
    await until(() => fetch(`http://127.0.0.1:${sb.mainPort}/healthz`).then(() => false, () => true), 5_000);

    expect(await g.proc.exited).toBe(0);
    expect(g.output()).toContain("letting 1 stream(s) in flight finish");
    expect(g.output()).toMatch(/stopped\n$/);
    for (const pid of pids) expect(await alive(pid)).toBe(false);
    expect(await processesIn(sb.dir)).toEqual([]);
  }, 60_000);

  test("no orphans after SIGKILL of gw: its watchdog stops the instances within seconds", async () => {
    const sb = await sandbox();
    const g = await up(sb);
    const pids = pidsOf(g.output());
    process.kill(g.proc.pid, "SIGKILL");
    await g.proc.exited;
    await until(async () => !(await Promise.all(pids.map(alive))).some(Boolean), 15_000, () => "instances of the killed gw to stop");
    await until(() => readFileSync(join(sb.dir, "logs/gw.log"), "utf8").includes(`gw (pid ${g.proc.pid}) died; its watchdog stopped the instances it left running: a, b`), 5_000);
    // And the watchdog's own `gw down --after-crash` ends: it writes that line before it exits.
    await until(async () => (await processesIn(sb.dir)).length === 0, 5_000, () => "the watchdog to end");
  }, 60_000);

  test("gw and its watchdog both killed: gw down, or the next gw up, stops what they left", async () => {
    const sb = await sandbox();
    const killBoth = async (g: RunningGw) => {
      for (const pid of await processesIn(sb.dir)) if ((await cmdline(pid)).includes("gw-watchdog")) process.kill(-pid, "SIGKILL");
      process.kill(g.proc.pid, "SIGKILL");
      await g.proc.exited;
    };
    const first = await up(sb);
    const firstPids = pidsOf(first.output());
    await killBoth(first);
    for (const pid of firstPids) expect(await alive(pid)).toBe(true);
    const down = await gw(sb, ["down", "-c", sb.file]);
    expect(down.code).toBe(0);
    expect(down.stdout).toBe(`gw is not running for ${sb.dir}; stopped instances a dead gw left running: a, b\n`);
    for (const pid of firstPids) expect(await alive(pid)).toBe(false);

    const second = await up(sb);
    const secondPids = pidsOf(second.output());
    await killBoth(second);
    const third = await up(sb);
    for (const pid of secondPids) expect(await alive(pid)).toBe(false);
    expect(third.output()).toContain("stopped instances a previous gw left running: a, b");
    process.kill(third.proc.pid, "SIGTERM");
    expect(await third.proc.exited).toBe(0);
    expect(await processesIn(sb.dir)).toEqual([]);
  }, 60_000);

  test("a config with errors stops gw up with gw check's lines, before anything starts", async () => {
    const sb = await sandbox();
    cleanups.push([sb]);
    appendFileSync(sb.file, `\n[instances.bad]\nport = "not a port"\nproviders = [{ type = "antigravity" }]\n`);
    const r = await gw(sb, ["up", "-c", sb.file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/providers\.toml:\d+:\d+  instances\.bad\.port  error: /);
    expect(r.stderr).toContain("error; nothing was changed");
    expect(await processesIn(sb.dir)).toEqual([]);
  }, 60_000);

  test("gw up -d whose gw is stopped while it starts (gw down, a SIGTERM) says it was stopped, not that it failed with exit code 0", async () => {
    // An instance that never answers: gw waits for it, and is stopped meanwhile.
    const sb = await sandbox([{ name: "a", command: ["sh", "-c", "exec sleep 60"] }]);
    cleanups.push([sb]);
    const up = gw(sb, ["up", "-d", "-c", sb.file]);
    const pidFile = join(sb.dir, ".gw", "gw.pid");
    let pid = 0;
    await until(() => {
      try {
        pid = (JSON.parse(readFileSync(pidFile, "utf8")) as { pid: number }).pid;
      } catch {
        return false;
      }
      return readFileSync(join(sb.dir, "logs", "gw.log"), "utf8").includes("a: started");
    }, 30_000, () => "gw to start a");
    process.kill(pid, "SIGTERM");
    const r = await up;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`gw: gw (pid ${pid}) was stopped before it served — the lines above say so`);
    expect(r.stderr).not.toContain("exit code 0");
    await until(async () => (await processesIn(sb.dir)).length === 0, 20_000, () => "gw and a to stop");
  }, 60_000);

  test("--port on an instance's port is refused at once, as gw check refuses main_port there: nothing is started", async () => {
    const sb = await sandbox();
    cleanups.push([sb]);
    const r = await gw(sb, ["up", "-c", sb.file, "--port", String(sb.ports.a)]);
    expect([r.code, r.stderr.trim()]).toEqual([1, `gw: --port ${sb.ports.a} is the port of instance 'a'\n  give the load balancer another port`]);
    expect(await processesIn(sb.dir)).toEqual([]);
  }, 60_000);

  test("an instance file the old setup's running instance reads as its config: refused, nothing written, the old instance still serves", async () => {
    const sb = await sandbox();
    cleanups.push([sb]);
    mkdirSync(join(sb.dir, "instances"));
    const old = `port: ${sb.ports.a}\nhost: 127.0.0.1\napi-keys: [old-lb-key]\n`;
    writeFileSync(join(sb.dir, "instances", "a.yaml"), old);
    // As its PM2 app ran it: from the folder, with the relative path.
    const oldInstance = Bun.spawn([process.execPath, MAIN, "mock", "-config", "instances/a.yaml"], { cwd: sb.dir, env: sb.env, stdout: "ignore", stderr: "ignore" });
    try {
      const ask = () => fetch(`http://127.0.0.1:${sb.ports.a}/v1/models`, { headers: { authorization: "Bearer old-lb-key" } }).then((r) => r.status, () => 0);
      await until(async () => (await ask()) === 200, 15_000, () => "the old instance to serve");
      const r = await gw(sb, ["up", "-c", sb.file]);
      expect([r.code, r.stderr]).toEqual([1, `gw: instances/a.yaml is the config of a process gw does not run, on port ${sb.ports.a} by pid ${oldInstance.pid} (${basename(process.execPath)}): gw would rewrite it under it, so nothing was written\n  stop the old setup's instances first (gw migrate names them), then run this again\n`]);
      // gw gen (and gw login, which writes the file too) the same, with no gw running.
      const gen = await gw(sb, ["gen", "-c", sb.file]);
      expect([gen.code, gen.stderr]).toEqual([1, r.stderr]);
      // The same folder reached through a link: the same file, refused the same.
      const link = `${sb.dir}-link`;
      symlinkSync(sb.dir, link);
      try {
        const linked = await gw(sb, ["gen", "-c", join(link, "providers.toml")]);
        expect([linked.code, linked.stderr]).toEqual([1, r.stderr]);
      } finally {
        rmSync(link);
      }
      expect(readFileSync(join(sb.dir, "instances", "a.yaml"), "utf8")).toBe(old);
      expect(existsSync(join(sb.dir, "instances", "b.yaml"))).toBe(false);
      expect(await ask()).toBe(200);
    } finally {
      oldInstance.kill("SIGKILL");
      await oldInstance.exited;
    }
  }, 60_000);

  test("a busy LB port is one line with the fix, and nothing is started or written", async () => {
    const sb = await sandbox();
    cleanups.push([sb]);
    // The old setup's generated file, which its running instance reads (and reloads when it changes).
    mkdirSync(join(sb.dir, "instances"));
    writeFileSync(join(sb.dir, "instances", "a.yaml"), "port: 1\napi-keys: [old-lb-key]\n");
    const busy = Bun.serve({ port: sb.mainPort, hostname: "127.0.0.1", fetch: () => new Response("taken") });
    try {
      const r = await gw(sb, ["up", "-c", sb.file]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(`gw: port ${sb.mainPort} of the load balancer is in use by pid ${process.pid} (${OWN_NAME}) — change [global] main_port or stop that process`);
      expect(await processesIn(sb.dir)).toEqual([]);
      expect(readFileSync(join(sb.dir, "instances", "a.yaml"), "utf8")).toBe("port: 1\napi-keys: [old-lb-key]\n");
      expect(existsSync(join(sb.dir, "instances", "b.yaml"))).toBe(false);
    } finally {
      busy.stop(true);
    }
  }, 60_000);

  // A port below the first unprivileged one (1024; a container may lower it to 0: nothing is
  // privileged there, so nothing to show) was called "in use" by nobody, and an instance's was
  // looked at again every few seconds for ever. Root may listen anywhere: gw runs as nobody.
  const privileged = (() => {
    try {
      return Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8")) - 1;
    } catch {
      return 1023;
    }
  })();
  test.skipIf(privileged < 2)("a port only root may open is said so, for the LB and for an instance: no 'in use' without a holder", async () => {
    const sb = await sandbox([{ name: "a" }, { name: "low", port: privileged }]);
    const asUser = process.getuid?.() === 0 ? ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] : [];
    chmodSync(sb.dir, 0o777);
    const file = readFileSync(sb.file, "utf8");
    writeFileSync(sb.file, file.replace(`main_port = ${sb.mainPort}`, `main_port = ${privileged - 1}`));
    const lb = startInGroup([...asUser, process.execPath, MAIN, "up", "-c", sb.file], sb.dir, sb.env);
    cleanups.push([sb, lb]);
    expect(await lb.proc.exited).toBe(1);
    expect(lb.output().trim()).toEndWith(`gw: port ${privileged - 1} of the load balancer may not be opened by this user: only root may listen below ${privileged + 1} — set [global] main_port to 1024 or above (e.g. 8145)`);
    writeFileSync(sb.file, file);
    const g = startInGroup([...asUser, process.execPath, MAIN, "up", "-c", sb.file], sb.dir, sb.env);
    cleanups.push([sb, g]);
    await g.waitFor("serving on", 30_000);
    expect(g.output()).toContain(`port ${privileged} of instance 'low' may not be opened by this user: only root may listen below ${privileged + 1} — set [instances.low] port to 1024 or above`);
    expect(g.output()).toContain(`serving on http://127.0.0.1:${sb.mainPort} — 1/2 instances ready`);
  }, 60_000);

  // A hung instance (its start never answers) held every route for readyTimeoutMs (30 s) before.
  test("an instance that does not answer at start: gw up -d serves the others once they are ready, and it joins when it answers", async () => {
    const sb = await sandbox([{ name: "a" }, { name: "b" }]);
    cleanups.push([sb]);
    const hold = join(sb.dir, "hold");
    const gated = join(sb.dir, "gated.sh");
    writeFileSync(gated, `#!/bin/sh\nwhile [ -e "${hold}" ]; do sleep 0.05; done\nexec "${process.execPath}" "${MAIN}" mock "$@"\n`);
    chmodSync(gated, 0o755);
    writeFileSync(hold, "");
    const file = readFileSync(sb.file, "utf8").replace(/(\[instances\.a\]\nport = \d+\n)/, `$1command = ["${gated}", "-config", "{config}"]\n`);
    writeFileSync(sb.file, `${file}"on-a" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }]\n`);
    const t0 = performance.now();
    const r = await gw(sb, ["up", "-d", "-c", sb.file]);
    const ms = performance.now() - t0;
    console.log(`gw up -d with a hung instance returned in ${Math.round(ms)} ms`);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("with 1/2 instances ready (not ready: a)");
    // Served while its start still runs: not after the readiness timeout, which says it "did not answer".
    expect(r.stdout).toContain("instance 'a' is starting, no answer yet");
    expect(r.stdout).not.toContain("did not answer");
    const chat = (model: string) => fetch(`http://127.0.0.1:${sb.mainPort}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }) });
    const onB = await chat("m");
    expect([onB.status, onB.headers.get("x-gw-target")]).toEqual([200, "b/gemini-3-flash"]);
    await onB.arrayBuffer();
    // Its route's request waits for it, and is answered once it starts.
    const onA = chat("on-a");
    rmSync(hold);
    const answered = await onA;
    expect([answered.status, answered.headers.get("x-gw-target")]).toEqual([200, "a/gemini-3-flash"]);
    await answered.arrayBuffer();
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
  }, 90_000);

  test("an instance whose binary is missing gets one line; the other instance and the LB still run", async () => {
    const sb = await sandbox([{ name: "a" }, { name: "gone", command: ["./no-such-cliproxy", "-config", "{config}"] }]);
    const g = await up(sb);
    expect(g.output()).toContain("command of instance 'gone' not found: ./no-such-cliproxy — fix [instances.gone] command or install it");
    expect(g.output()).toContain("1/2 instances ready");
    const res = await fetch(`http://127.0.0.1:${sb.mainPort}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    process.kill(g.proc.pid, "SIGTERM");
    expect(await g.proc.exited).toBe(0);
  }, 60_000);
});
