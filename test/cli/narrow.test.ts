// gw usage (and gw status, test/supervisor/status.test.ts) on a terminal narrower than the table:
// the rows wrapped over several lines each and the columns stopped lining up. There each row is
// now a block that fits; a pipe still gets the whole table, for scripts and less -S.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { record, writeRecords } from "../helpers/observe.ts";
import { runGw, tempDir } from "../helpers/tmp.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");

/** gw on a pseudo-terminal (util-linux `script`) of `cols` columns. */
async function onTerminal(args: string[], cols: number) {
  const cmd = [process.execPath, MAIN, ...args].map((a) => `'${a}'`).join(" ");
  const proc = Bun.spawn(["script", "-qec", `stty cols ${cols}; ${cmd}`, "/dev/null"], { env: { ...process.env, NO_COLOR: "1" }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return { lines: stdout.replaceAll("\r", "").split("\n"), code };
}

test("gw usage on a 40-column terminal: a block per row, every line of it fits; piped, the table", async () => {
  const dir = tempDir("gw-narrow-");
  const ts = new Date().toISOString();
  writeRecords(dir, [
    record({ ts, route: "opus", attempts: ["a/claude-opus-4-6:200:ok"], usage: { input: 1200, output: 300, cache_read: 40_000 } }),
    record({ ts, route: "g3f", attempts: ["b/gemini-3-flash:200:ok"], usage: { input: 500, output: 50 } }),
  ]);
  const narrow = await onTerminal(["usage", dir, "--by", "route"], 40);
  expect(narrow.code).toBe(0);
  const table = narrow.lines.slice(0, narrow.lines.indexOf(""));
  expect(table[0]).toBe("opus");
  expect(table).toContain("total");
  expect(table.join("\n")).toContain("cache read 40.0k");
  for (const line of table) expect(line.length).toBeLessThanOrEqual(40);

  const wide = await onTerminal(["usage", dir, "--by", "route"], 160);
  expect(wide.lines[0]).toMatch(/^route\s+requests\s+input\s+output\s+cache read\s+cache write\s+cost$/);
  const piped = await runGw(["usage", dir, "--by", "route"], { env: { COLUMNS: "40" } });
  expect(piped.stdout.split("\n")[0]).toBe(wide.lines[0]);
});
