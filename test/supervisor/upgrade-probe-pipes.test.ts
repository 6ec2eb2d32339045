// `gw upgrade BINARY` first asks BINARY `--version --json`. A binary (a wrapper script, say) whose
// `--version` leaves a background child holding its stdout and stderr must not hold the upgrade
// until that child exits: gw reads what the probe wrote until the probe itself exits. Real gw,
// gw mock instances, a wrapper script as the new binary.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { alive, gw, killAll, MAIN, type Sandbox, sandbox, until } from "../helpers/supervisor.ts";

let sb: Sandbox;
afterAll(async () => {
  if (sb) await killAll(sb);
});

/** A gw wrapper whose `--version` first starts a child that holds its pipes for a minute, its pid written to `holder-N.pid`. */
function wrapperLeavingAChild(dir: string): string {
  const path = join(dir, "new-gw.sh");
  const hold = `"${process.execPath}" -e 'require("fs").writeFileSync(process.argv[1], String(process.pid)); setTimeout(() => {}, 60000)' "${dir}/holder-$$.pid" &`;
  writeFileSync(path, `#!/bin/sh\nif [ "$1" = "--version" ]; then ${hold}\nfi\nexec "${process.execPath}" "${MAIN}" "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

/** The pid of the holder the latest probe started (its file appears once it runs). */
async function holderPid(dir: string, before: Set<string>): Promise<number> {
  let file: string | undefined;
  await until(() => (file = readdirSync(dir).find((f) => f.startsWith("holder-") && !before.has(f) && readFileSync(join(dir, f), "utf8") !== "")) !== undefined, 20_000, () => "the probe's background child to start");
  before.add(file!);
  return Number(readFileSync(join(dir, file!), "utf8"));
}

test("a probe that leaves a child holding its pipes: the upgrade answers while that child still runs, and so does the next one", async () => {
  sb = await sandbox();
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  const wrapper = wrapperLeavingAChild(sb.dir);
  const seen = new Set<string>();
  for (const round of [1, 2]) {
    const up = await gw(sb, ["upgrade", wrapper, "--json", "-c", sb.file]);
    expect([round, JSON.parse(up.stdout)]).toMatchObject([round, { ok: true }]);
    // Answered before the holder let go of the pipes (it lives a minute).
    expect(await alive(await holderPid(sb.dir, seen))).toBe(true);
  }
}, 150_000);
