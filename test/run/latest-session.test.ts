// Which session just ran, for cld's resume hint: the session file written to last since the launch.
import { expect, test } from "bun:test";
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { latestSession } from "../../src/run/agents/claude/resume.ts";
import { tempDir } from "../helpers/tmp.ts";

/** A session file in `dir`'s projects whose mtime is `at` (ms). */
function session(dir: string, id: string, at: number): void {
  const folder = join(dir, "projects", "-w");
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `${id}.jsonl`);
  writeFileSync(file, "{}\n");
  utimesSync(file, at / 1000, at / 1000);
}

test("a session stamped a few ms before the launch's Date.now() is the one that ran: file times come from a coarser clock", () => {
  const dir = tempDir();
  const launched = Date.now();
  session(dir, "older", launched - 60_000); // the session before: not this launch's
  expect(latestSession(dir, launched)).toBeUndefined();
  session(dir, "this", launched - 5); // written at once, stamped from the last timer tick
  expect(latestSession(dir, launched)).toBe("this");
});
