// `gw restart` while its drain waits, met by a `gw reload` that moves or removes the instance: the
// reload's relaunch (or stop) takes the restart over. gw restart follows it to the end and says how
// the instance came out — exit 0 only when it runs the new config — never an empty success.
// Real gw, gw mock instances, streams through the official Anthropic SDK.
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { controlJson } from "../../src/supervisor/control.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";
import type { StatusReport } from "../../src/supervisor/status.ts";
import { freePorts } from "../helpers/ports.ts";
import { gw, killAll, type Sandbox, sandbox, slowStream, startGw, untilLogged } from "../helpers/supervisor.ts";

let sb: Sandbox;
afterAll(async () => {
  if (sb) await killAll(sb);
});

const status = () => controlJson<StatusReport>(gwPaths(sb.dir), "/status");

/** A ~3 s stream on route "ma" (instance a alone). */
const streamOnA = () => slowStream(sb.mainPort, 30, 100, "ma");

test("a reload moves the instance while gw restart drains: gw restart follows the reload's relaunch, says so, exit 0 (--json too)", async () => {
  sb = await sandbox();
  const toml = readFileSync(sb.file, "utf8").replace("shutdown_grace_ms = 15000", "shutdown_grace_ms = 20000");
  writeFileSync(sb.file, `${toml}"ma" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }]\n`);
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);

  // Plain, then --json (quiet until its answer: its drain is waited for in gw.log). Each restart is
  // draining before the reload is written: one queued behind another could reach gw after it.
  for (const [round, json] of [false, true].entries()) {
    const s = streamOnA();
    await s.first;
    const restart = startGw(sb, ["restart", "a", ...(json ? ["--json"] : []), "-c", sb.file]);
    if (json) await untilLogged(sb, "a: restart: waiting for 1 request(s) in flight", round + 1);
    else await restart.waitFor("a: waiting for 1 request(s) in flight to finish", 10_000);
    const [port] = await freePorts(1);
    writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace(/(\[instances\.a\]\nport = )\d+\n/, `$1${port}\n`));
    const reload = gw(sb, ["reload", "-c", sb.file]);

    expect(await s.ended).toBe("finished");
    expect((await reload).code).toBe(0);
    expect(await restart.proc.exited).toBe(0);
    if (json) expect((JSON.parse(restart.output()) as { results: unknown[] }).results).toMatchObject([{ name: "a", ok: true, by: "reload" }]);
    else
      expect(restart.output()).toMatch(
        /^a: waiting for 1 request\(s\) in flight to finish .*\na: drained after 1 request\(s\) in flight finished \([\d.]+ s\); a later reload changed it meanwhile — its restart follows\na: restarted by the reload, ready in [\d.]+ s\n$/,
      );
    const a = (await status()).instances.find((i) => i.name === "a")!;
    expect([a.port, a.state]).toEqual([port!, "ready"]);
  }
}, 90_000);

test("a reload removes the instance while gw restart drains: gw restart says it was not restarted but stopped, exit 1", async () => {
  const s = streamOnA();
  await s.first;
  const restart = startGw(sb, ["restart", "a", "-c", sb.file]);
  await restart.waitFor("a: waiting for 1 request(s) in flight to finish", 10_000);
  const withoutA = readFileSync(sb.file, "utf8")
    .replace(/\[instances\.a\][\s\S]*?(?=\[instances\.b\])/, "")
    .replace(/^"ma" = .*\n/m, "")
    .replace('{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }, ', "");
  writeFileSync(sb.file, withoutA);
  const reload = gw(sb, ["reload", "-c", sb.file]);

  expect(await s.ended).toBe("finished");
  expect((await reload).code).toBe(0);
  expect(await restart.proc.exited).toBe(1);
  expect(restart.output()).toMatch(/a later reload changed it meanwhile — its stop follows\na: not restarted: a reload removed it from the config; it has stopped\n$/);
  expect((await status()).instances.map((i) => i.name)).toEqual(["b"]);
}, 90_000);
