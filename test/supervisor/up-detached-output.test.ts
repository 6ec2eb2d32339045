// What `gw up -d` prints of the config it starts: each warning once (its own check reads the file
// before the background gw does, which prints the same warnings into the log up -d relays), and,
// for a config already running, the refusal the README describes. Real gws in a sandbox.
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ANOTHER_GW_EXIT } from "../../src/supervisor/service.ts";
import { tempDir } from "../helpers/tmp.ts";
import { gw, killAll, processesIn, type Sandbox, sandbox } from "../helpers/supervisor.ts";

let sb: Sandbox | undefined;
afterAll(async () => {
  if (sb) await killAll(sb);
});

test("up -d says each config warning once; a second up -d --json is refused on stderr alone, exit 3", async () => {
  sb = await sandbox([{ name: "a" }]);
  // A .env line gw cannot read: a warning, not an error, so gw still starts.
  writeFileSync(join(sb.dir, ".env"), "THIS IS NOT AN ASSIGNMENT\n");
  // Run from another folder: up -d names the .env from there, its background gw from the config's.
  const up = await gw({ dir: tempDir(), env: sb.env }, ["up", "-d", "-c", sb.file]);
  expect(up.code).toBe(0);
  const warning = "gw cannot read this line, so it sets nothing";
  expect(up.stderr.split(warning).length - 1).toBe(1);

  const again = await gw(sb, ["up", "-d", "-c", sb.file, "--json"]);
  expect(again.code).toBe(ANOTHER_GW_EXIT);
  expect(again.stdout).toBe("");
  expect(again.stderr).toContain(`gw: gw is already running for ${sb.dir}`);
  const readme = readFileSync(join(import.meta.dir, "../../README.md"), "utf8").replace(/\s+/g, " ");
  const refusedBefore = readme.slice(readme.indexOf("A command refused before it could do"), readme.indexOf("a result that is a failure"));
  expect(refusedBefore).toContain("an `up -d` for a config a gw already runs: exit 3) prints its one-line error on stderr and nothing on stdout");

  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
  expect(await processesIn(sb.dir)).toEqual([]);
}, 60_000);
