import { expect, test } from "bun:test";
import { progressLine } from "../../src/cli/progress.ts";

/** A terminal (or not) that keeps what is written, and a clock the test moves. */
function rig(isTTY: boolean, env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  let t = 0;
  const line = progressLine({ isTTY, write: (s: string) => out.push(s) }, { env, now: () => t, afterMs: 1000, everyMs: 100 });
  return { out, line, at: (ms: number) => void (t = ms) };
}

test("silent for its first second, then at most every 100 ms; the end clears the line", () => {
  const r = rig(true);
  r.line.show("a");
  r.at(999);
  r.line.show("b");
  expect(r.out).toEqual([]);
  r.at(1000);
  r.line.show("c");
  r.at(1050);
  r.line.show("d");
  r.at(1100);
  r.line.show("e");
  r.line.end();
  expect(r.out).toEqual(["\rc\x1b[K", "\re\x1b[K", "\r\x1b[K"]);
});

test("a quick run leaves nothing to clear", () => {
  const r = rig(true);
  r.line.show("a");
  r.line.end();
  expect(r.out).toEqual([]);
});

test("never on a pipe or a file, nor on a dumb terminal", () => {
  for (const r of [rig(false), rig(true, { TERM: "dumb" })]) {
    r.at(5000);
    r.line.show("x");
    r.line.end();
    expect(r.out).toEqual([]);
  }
});
