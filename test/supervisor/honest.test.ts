// Honest status: gw says what is not ready and why, exits non-zero when nothing can serve, and
// /healthz tells a load balancer in front the same (200 ok / 200 degraded / 503 failed).
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fakeReleases } from "../helpers/release.ts";
import { crashingScript, gw, killAll, MAIN, processesIn, type Sandbox, sandbox, until, untilLogged } from "../helpers/supervisor.ts";

const sandboxes: Sandbox[] = [];
afterAll(async () => {
  for (const sb of sandboxes) await killAll(sb);
});
async function box(...args: Parameters<typeof sandbox>): Promise<Sandbox> {
  const sb = await sandbox(...args);
  sandboxes.push(sb);
  return sb;
}

const health = async (port: number, method = "GET") => {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { method });
  return { status: res.status, body: method === "HEAD" ? "" : await res.text() };
};

describe("gw up with nothing that can serve", () => {
  test("no CLIProxyAPI binary: gw up -d names the fix, exits 1 and leaves nothing running; after gw cliproxy install it serves", async () => {
    const sb = await box();
    // A config that names no binary, on a machine that has none (nothing on PATH, nothing installed).
    writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace(/^cliproxy = .*\n/m, ""));
    sb.env = { ...sb.env, PATH: "/usr/bin:/bin" };
    const r = await gw(sb, ["up", "-d", "-c", sb.file]);
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    // each instance's line as it happens, then the end says the one reason once, for both
    const reason = "not found (none beside the config, none installed by gw, no cli-proxy-api or cliproxy on PATH) — get it with: gw cliproxy install — or point $GW_CLIPROXY or [global] cliproxy";
    expect(out).toContain(`CLIProxyAPI binary for instance 'a' ${reason}`);
    expect(out).toContain("CLIProxyAPI binary for instance 'b' not found");
    expect(out).toContain(`gw: no instance can serve, so gw stopped: CLIProxyAPI binary for instances 'a', 'b' ${reason}`);
    expect(out.split("get it with").length - 1).toBe(3);
    expect(out).toContain("  fix that and run gw up again\n");
    // Its refusal is the reason, on stderr as in the foreground: no other line after it.
    expect(r.stderr).toContain(`gw: no instance can serve, so gw stopped: CLIProxyAPI binary for instances 'a', 'b' ${reason}`);
    expect(r.stderr).toEndWith("\n  fix that and run gw up again\n");
    expect(out).not.toContain("running in the background");
    expect(await processesIn(sb.dir)).toEqual([]);
    const st = await gw(sb, ["status", "--json", "-c", sb.file]);
    expect(st.code).toBe(1);
    expect(JSON.parse(st.stdout)).toEqual({ running: false, dir: sb.dir, message: `gw is not running for ${sb.dir}` });
    // `gw check` already says so, before anything is started.
    const check = await gw(sb, ["check", "-c", sb.file]);
    expect(check.code).toBe(0);
    expect(check.stderr).toContain("note: no CLIProxyAPI binary found for this config");

    // The fix the message names, then the same command serves.
    const releases = await fakeReleases(["9.9.9"], "9.9.9");
    try {
      sb.env = { ...sb.env, GW_CLIPROXY_RELEASES: releases.base };
      expect((await gw(sb, ["cliproxy", "install"])).code).toBe(0);
    } finally {
      releases.stop();
    }
    const again = await gw(sb, ["up", "-d", "-c", sb.file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`gw is running in the background (pid `);
    expect(again.stdout).toMatch(/gw is running in the background \(pid \d+\) on http:\/\/127\.0\.0\.1:\d+ — /);
    expect(await health(sb.mainPort)).toEqual({ status: 200, body: '{"status":"ok","ready":2,"total":2,"not_ready":[]}' });
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
    expect(await processesIn(sb.dir)).toEqual([]);
  }, 90_000);

  test("every instance crash-looping: gw up -d waits for the verdict, shows each one's last log line, exits 1", async () => {
    const crash = crashingScript(join((await box([])).dir));
    const sb = await box([{ name: "a", command: [crash] }, { name: "b", command: [crash] }]);
    const r = await gw(sb, ["up", "-d", "-c", sb.file]);
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    // two reasons (each names its own log): the end keeps one line for each
    expect(out).toContain("gw: no instance can serve, so gw stopped:\n  instance 'a' exited");
    expect(out).toContain("  fix each and run gw up again\n");
    // Its end is said once gw has stopped: no "next try in 300 s" that will never come.
    const summary = out.slice(out.indexOf("gw: no instance can serve, so gw stopped:"));
    expect(summary).toMatch(/instance 'a' exited \(code 3\) after [\d.]+ s — crash loop \(5 exits in a minute\); logs\/a\.log ends: /);
    expect(summary).not.toContain("next try");
    for (const name of ["a", "b"]) {
      expect(out).toMatch(new RegExp(`instance '${name}' exited \\(code 3\\) after [\\d.]+ s — crash loop \\(5 exits in a minute\\), next try in 300\\.0 s; logs/${name}.log ends: crashing on purpose in `));
    }
    expect(await processesIn(sb.dir)).toEqual([]);
  }, 90_000);
});

describe("/healthz and gw up -d when some instances are not ready", () => {
  test("degraded: 200 with the instances not ready; failed: 503; Claude Code's HEAD probes stay 200", async () => {
    const flagDir = (await box([])).dir;
    const flag = join(flagDir, "broken");
    // Instance a runs the mock until the flag file exists, then exits at once on each start.
    const flaky = join(flagDir, "flaky.sh");
    writeFileSync(flaky, `#!/bin/sh\n[ -e "${flag}" ] && { echo "flag file says: broken" >&2; exit 7; }\nexec "${process.execPath}" "${MAIN}" mock "$@"\n`, { mode: 0o755 });
    const crash = crashingScript(flagDir);
    const sb = await box([{ name: "a", command: [flaky, "-config", "{config}"] }, { name: "b", command: [crash] }]);
    const r = await gw(sb, ["up", "-d", "-c", sb.file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("not ready (their routes fail over to the other instances meanwhile):");
    expect(r.stdout).toMatch(/instance 'b' exited \(code 3\) after [\d.]+ s — restarting in/);
    expect(r.stdout).toMatch(/gw is running in the background \(pid \d+\) on http:\/\/127\.0\.0\.1:\d+ with 1\/2 instances ready \(not ready: b\)/);

    expect(await health(sb.mainPort)).toEqual({ status: 200, body: '{"status":"degraded","ready":1,"total":2,"not_ready":["b"]}' });
    expect((await health(sb.mainPort, "HEAD")).status).toBe(200);

    // Instance a breaks too: nothing can serve, and the load balancer in front sees 503.
    writeFileSync(flag, "");
    const s = JSON.parse((await gw(sb, ["status", "--json", "-c", sb.file])).stdout);
    expect(s.running).toBe(true);
    process.kill(s.instances.find((i: { name: string }) => i.name === "a").pid, "SIGKILL");
    await until(async () => (await health(sb.mainPort)).status === 503, 15_000, () => "healthz to turn 503");
    expect(JSON.parse((await health(sb.mainPort)).body)).toEqual({ status: "failed", ready: 0, total: 2, not_ready: ["a", "b"] });
    expect((await health(sb.mainPort, "HEAD")).status).toBe(503);
    for (const probe of ["/", "/api/hello"]) expect((await fetch(`http://127.0.0.1:${sb.mainPort}${probe}`, { method: "HEAD" })).status).toBe(200);
    // gw status says why: the last words of a's latest start.
    // (gw.log gets the line as the status does; the flag stays, so every later exit says the same)
    await untilLogged(sb, "logs/a.log ends: flag file says: broken", 1, 15_000);
    expect((await gw(sb, ["status", "-c", sb.file])).stdout).toContain("logs/a.log ends: flag file says: broken");

    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
    expect(existsSync(join(sb.dir, ".gw", "gw.pid"))).toBe(false);
  }, 90_000);
});
