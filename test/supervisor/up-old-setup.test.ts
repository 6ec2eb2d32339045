// `gw up` for someone coming from the old setup: a port the old PM2 app still holds is named with
// the app and the pm2 commands that stop it for good (the holder is a real process started the
// way PM2 starts its apps — with PM2's environment, which carries the app's `name` and `pm_id`);
// once it starts, it says where unrouted models go and which OAuth providers have no login.
import { afterAll, expect, test } from "bun:test";
import { basename } from "node:path";
import { gw, killAll, processesIn, type Sandbox, sandbox, startGw } from "../helpers/supervisor.ts";

const cleanups: Sandbox[] = [];
afterAll(async () => {
  for (const sb of cleanups) await killAll(sb);
});

/** gw up's last line while a process started as PM2 app `name` (id `id`) holds the LB port. */
async function upWithPm2Holder(name: string, id: number): Promise<{ line: string; pid: number; sb: Sandbox }> {
  const sb = await sandbox([{ name: "a" }]);
  cleanups.push(sb);
  const holder = Bun.spawn(
    [process.execPath, "-e", `Bun.serve({ hostname: "127.0.0.1", port: ${sb.mainPort}, fetch: () => new Response("old lb") }); console.log("listening");`],
    { env: { ...process.env, pm_id: String(id), name, pm_exec_path: "/srv/old/lb.js" }, stdout: "pipe", stderr: "inherit" },
  );
  try {
    const first = await holder.stdout.getReader().read(); // the holder says when it listens: no guessed sleep
    expect(new TextDecoder().decode(first.value)).toContain("listening");
    const r = await gw(sb, ["up", "-c", sb.file]);
    expect(r.code).toBe(1);
    expect(await processesIn(sb.dir)).toEqual([]);
    return { line: r.stderr.trim().split("\n").at(-1)!, pid: holder.pid, sb };
  } finally {
    holder.kill();
    await holder.exited;
  }
}

test("a busy LB port held by a PM2 app names the app and how to stop it", async () => {
  const { line, pid, sb } = await upWithPm2Holder("cliproxy-lb", 3);
  expect(line).toBe(
    `gw: port ${sb.mainPort} of the load balancer is in use by pid ${pid} (${basename(process.execPath)}, PM2 app "cliproxy-lb" of the old setup — stop it for good: pm2 stop cliproxy-lb && pm2 delete cliproxy-lb && pm2 save) — change [global] main_port or stop that process`,
  );
}, 60_000);

test("a PM2 app whose name pm2 would read as every app is named by its id in the commands", async () => {
  const { line } = await upWithPm2Holder("all", 7);
  expect(line).toContain('PM2 app "all" of the old setup — stop it for good: pm2 stop 7 && pm2 delete 7 && pm2 save)'); // `pm2 delete all` would remove every app
}, 60_000);

test("gw up names the instance for unrouted models and each OAuth provider without a login", async () => {
  const sb = await sandbox([{ name: "a" }, { name: "b" }], `default_instance = "b"`);
  cleanups.push(sb);
  const g = startGw(sb, ["up", "-c", sb.file]);
  try {
    await g.waitFor("serving on");
    expect(g.output()).toContain('instances.a.providers[0]  warning: instance "a" has no antigravity login in');
    expect(g.output()).toContain("(log in: gw login a antigravity)");
    expect(g.output()).toContain('requests for models no route names go to instance "b" ([global] default_instance)');
  } finally {
    g.proc.kill("SIGTERM");
    await g.proc.exited;
  }
}, 60_000);
