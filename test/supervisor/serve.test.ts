// serve() in-process with short timings: instance logs rotate by size while the instance keeps
// writing, an instance that never answers is reported and kept, and `down` stops it all.
import { expect, test } from "bun:test";
import { chmodSync, existsSync, statSync, writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { controlJson } from "../../src/supervisor/control.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";
import { DEFAULT_TIMING } from "../../src/supervisor/timing.ts";
import type { StatusReport } from "../../src/supervisor/status.ts";
import { alive, inProcessServe, processesIn, sandbox, until } from "../helpers/supervisor.ts";

const serveInProcess = inProcessServe();

test("instance logs rotate by size while the instance writes; an instance that never answers is reported", async () => {
  const sb = await sandbox([{ name: "a" }, { name: "chatty", command: ["./chatty.sh"] }]);
  const script = join(sb.dir, "chatty.sh");
  writeFileSync(script, `#!/bin/sh\nwhile true; do echo "chatty $$ ........................................................"; sleep 0.01; done\n`);
  chmodSync(script, 0o755);
  const timing = { ...DEFAULT_TIMING, readyTimeoutMs: 1_500, rotateCheckMs: 100, logMaxBytes: 4_000, logKeep: 2 };
  const { running } = await serveInProcess(sb, timing);
  const paths = gwPaths(sb.dir);
  const log = join(sb.dir, "logs", "chatty.log");
  await until(() => existsSync(`${log}.2`), 20_000, () => "two rotations of chatty.log");
  expect(existsSync(`${log}.3`)).toBe(false);
  expect(statSync(`${log}.1`).size).toBeGreaterThan(timing.logMaxBytes);
  await until(() => readFileSync(log, "utf8").includes("chatty"), 5_000); // the writer continues in the fresh file

  // The readiness verdict is its own event: rotation can finish long before the 1.5 s timeout.
  const unready = /ERROR instance 'chatty' \(pid \d+\) did not answer on port \d+ within 1\.5 s — see logs\/chatty\.log/;
  await until(() => unready.test(readFileSync(paths.gwLog, "utf8")), 20_000, () => `the unready line in gw.log:\n${readFileSync(paths.gwLog, "utf8")}`);
  // On a loaded machine the mock may miss the short timeout too; it is then probed until ready.
  await until(() => /INFO  a: ready (in|after)/.test(readFileSync(paths.gwLog, "utf8")), 20_000, () => "a: ready in gw.log");

  const status = await controlJson<StatusReport>(paths, "/status");
  expect(status.instances.map((i) => [i.name, i.state])).toEqual([["a", "ready"], ["chatty", "unready"]]);
  const pids = status.instances.map((i) => i.pid!);
  await controlJson(paths, "/down", { method: "POST" });
  await running;
  for (const pid of pids) expect(await alive(pid)).toBe(false);
  expect(await processesIn(sb.dir)).toEqual([]);
  expect(existsSync(paths.socket)).toBe(false);
  expect(existsSync(paths.pidFile)).toBe(false);
}, 60_000);
