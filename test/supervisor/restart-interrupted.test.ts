// `gw restart` while its drain waits, met by `gw upgrade` or `gw down`: the restart never ends as
// if it had happened when it did not. An upgrade lets it finish first (and refuses restarts asked
// for while it runs); a down ends it with "not restarted", exit 1. Real gw, gw mock instances,
// streams through the official Anthropic SDK.
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { controlJson } from "../../src/supervisor/control.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";
import type { StatusReport } from "../../src/supervisor/status.ts";
import { alive, gw, killAll, processesIn, type Sandbox, sandbox, slowStream, startGw, until, untilLogged } from "../helpers/supervisor.ts";

/** Longer than a stream (~4 s): the drain ends when the stream does, not at the grace period. */
const GRACE_MS = 10_000;
let sb: Sandbox;
afterAll(async () => {
  if (sb) await killAll(sb);
});

const status = () => controlJson<StatusReport>(gwPaths(sb.dir), "/status");
const pidOf = async (name: string) => (await status()).instances.find((i) => i.name === name)!.pid;

/** A ~4 s stream on route "ma" (instance a alone). */
const streamOnA = () => slowStream(sb.mainPort, 40, 100, "ma");

test("gw upgrade while gw restart drains: the restart happens first and says so, then the upgrade; a restart asked for meanwhile is refused", async () => {
  sb = await sandbox();
  const toml = readFileSync(sb.file, "utf8").replace("shutdown_grace_ms = 15000", `shutdown_grace_ms = ${GRACE_MS}`);
  writeFileSync(sb.file, `${toml}"ma" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }]\n`);
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  const oldGw = (await status()).pid;
  const oldA = await pidOf("a");

  const s = streamOnA();
  await s.first;
  const restart = startGw(sb, ["restart", "a", "-c", sb.file]);
  await restart.waitFor("a: waiting for 1 request(s) in flight to finish", 10_000);
  const upgrade = gw(sb, ["upgrade", "--json", "-c", sb.file]);
  await untilLogged(sb, "upgrading to");
  const refused = gw(sb, ["restart", "b", "-c", sb.file]);

  expect(await s.ended).toBe("finished");
  expect(await restart.proc.exited).toBe(0);
  expect(restart.output()).toMatch(/^a: waiting for 1 request\(s\) in flight to finish \(up to 10\.0 s\); new requests go to other targets or wait for it\na: restarted after 1 request\(s\) in flight finished \([\d.]+ s\), ready in [\d.]+ s\n$/);
  const r = await refused;
  expect([r.code, r.stderr]).toEqual([1, "gw: gw is upgrading; run gw restart again once the new gw serves\n"]);
  expect(readFileSync(gwPaths(sb.dir).gwLog, "utf8")).toContain("upgrade: the gw restart under way ends first");
  const up = JSON.parse((await upgrade).stdout) as { ok: boolean; pid: number };
  expect(up.ok).toBe(true);
  // The new gw adopted the restarted a.
  const after = await status();
  expect(after.pid).toBe(up.pid);
  const a = after.instances.find((i) => i.name === "a")!;
  expect(a.state).toBe("ready");
  expect(a.pid).not.toBe(oldA);
  expect(await alive(oldA!)).toBe(false);
  await until(async () => !(await alive(oldGw)), 20_000, () => `old gw ${oldGw} still running`);
}, 90_000);

test("gw down while gw restart drains: each instance it did not restart is named, exit 1 (--json too); the stream finishes", async () => {
  const a = await pidOf("a");
  const s = streamOnA();
  await s.first;
  const rolling = startGw(sb, ["restart", "-c", sb.file]);
  await rolling.waitFor("a: waiting for 1 request(s) in flight to finish", 10_000);
  const json = gw(sb, ["restart", "a", "--json", "-c", sb.file]); // queued behind the rolling one's a
  await Bun.sleep(300);
  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);

  expect(await s.ended).toBe("finished");
  expect(await rolling.proc.exited).toBe(1);
  expect(rolling.output()).toMatch(/^a: waiting for 1 request\(s\) in flight to finish \(up to 10\.0 s\); new requests go to other targets or wait for it\na: not restarted: gw is stopping\nb: not restarted: gw is stopping\n$/);
  const j = await json;
  expect(j.code).toBe(1);
  expect(JSON.parse(j.stdout)).toEqual({ results: [{ name: "a", ok: false, ms: 0, problem: "not restarted: gw is stopping" }] });
  expect(await alive(a!)).toBe(false); // stopped with gw, not restarted
  let left: number[] = [];
  await until(async () => (left = await processesIn(sb.dir)).length === 0, 20_000, () => `still running after gw down: ${left.join(", ")}`);
}, 90_000);
