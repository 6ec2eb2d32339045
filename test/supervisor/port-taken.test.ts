// An instance whose port another program holds when it is to start (gw up, a reload that moves it,
// a respawn) is not started, and the LB sends that program nothing: not the instance's key, not a
// client's prompt — not even as the last resort of a route that has no other target, which answers
// 503 saying why. Once the port is free the instance starts and serves. Real gw, real instances.
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { controlJson } from "../../src/supervisor/control.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";
import type { StatusReport } from "../../src/supervisor/status.ts";
import { chatThrough, gw, killAll, OWN_NAME, type Sandbox, sandbox, until } from "../helpers/supervisor.ts";

let sb: Sandbox | undefined;
const seen: string[] = [];
// The other program on instance b's port: it would answer anything with a 200.
const squatter = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req) {
    seen.push(`${req.method} ${new URL(req.url).pathname} ${req.headers.get("authorization") ?? ""}`);
    return Response.json({ id: "x", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: "squatter says hi" }, finish_reason: "stop" }] });
  },
});
afterAll(async () => {
  squatter.stop(true);
  if (sb) await killAll(sb);
});

test("a port held by another program: that instance is sent nothing, its route says why; once freed, it starts and serves", async () => {
  const held = squatter.port!;
  sb = await sandbox([{ name: "a" }, { name: "b", port: held }], "lb_first_byte_timeout_ms = 20000");
  writeFileSync(sb.file, `${readFileSync(sb.file, "utf8")}"onlyb" = [{ instance = "b", provider = "antigravity", model = "gemini-3-flash" }]\n`);
  const up = await gw(sb, ["up", "-d", "-c", sb.file]);
  expect(up.code).toBe(0);
  expect(up.stdout + up.stderr).toContain(`port ${held} of instance 'b' is in use by pid ${process.pid}`);

  // Its routes' other targets serve, whatever the weights draw.
  for (let i = 0; i < 6; i++) {
    const res = await chatThrough(sb, "m", false);
    expect([res.status, res.headers.get("x-gw-target")?.split("/")[0]]).toEqual([200, "a"]);
    await res.arrayBuffer();
  }
  // A route with no other target: gw's own 503, naming the cause, and no answer of the squatter's.
  const only = await chatThrough(sb, "onlyb", false);
  const body = await only.text();
  expect(only.status).toBe(503);
  expect(body).toContain('on instance \\"b\\", whose port another process holds (gw sends it nothing)');
  expect(body).not.toContain("squatter");
  expect(seen).toEqual([]);

  // The port freed: gw looks again (every 2 s), b starts, and its route is served by b itself.
  squatter.stop(true);
  const status = () => controlJson<StatusReport>(gwPaths(sb!.dir), "/status");
  await until(async () => (await status()).instances.find((i) => i.name === "b")?.state === "ready", 20_000, () => "b to start once its port is free");
  const served = await chatThrough(sb, "onlyb", false);
  expect([served.status, served.headers.get("x-gw-target")?.split("/")[0]]).toEqual([200, "b"]);
  expect(await served.text()).not.toContain("squatter");
  expect(seen).toEqual([]);

  // A reload that moves b onto a port another program holds: the same.
  const second = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: squatter.fetch.bind(squatter) as never });
  try {
    writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace(`port = ${held}\n`, `port = ${second.port}\n`));
    const reload = await gw(sb, ["reload", "-c", sb.file]);
    expect([reload.code, reload.stdout + reload.stderr]).toEqual([1, `b: port ${second.port} of instance 'b' is in use by pid ${process.pid} (${OWN_NAME}) — change [instances.b] port or stop that process (gw looks again every 2 s)\nconfig reloaded, but b is not running (above)\n`]);
    const after = await chatThrough(sb, "onlyb", false);
    expect(after.status).toBe(503);
    expect(await after.text()).toContain("whose port another process holds");
    expect(seen).toEqual([]);
  } finally {
    second.stop(true);
  }
}, 60_000);
