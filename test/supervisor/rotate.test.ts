import { describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, openSync, readFileSync, writeFileSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { rotateIfLarge } from "../../src/supervisor/rotate.ts";
import { readNew, tailLines } from "../../src/supervisor/logtail.ts";
import { tempDir } from "../helpers/tmp.ts";

describe("rotateIfLarge", () => {
  test("leaves a small file alone", async () => {
    const f = join(tempDir(), "a.log");
    writeFileSync(f, "x\n");
    expect(await rotateIfLarge(f, 100, 3)).toBe(false);
    expect(existsSync(`${f}.1`)).toBe(false);
  });

  test("shifts generations, keeps N, and a writer holding the file in append mode continues at the start", async () => {
    const f = join(tempDir(), "a.log");
    const fd = openSync(f, "a"); // like an instance's stdout
    for (let gen = 1; gen <= 5; gen++) {
      writeSync(fd, `generation ${gen} `.padEnd(200, "x") + "\n");
      expect(await rotateIfLarge(f, 100, 3)).toBe(true);
    }
    writeSync(fd, "after\n");
    closeSync(fd);
    expect(readFileSync(f, "utf8")).toBe("after\n");
    expect(readFileSync(`${f}.1`, "utf8")).toStartWith("generation 5");
    expect(readFileSync(`${f}.3`, "utf8")).toStartWith("generation 3");
    expect(existsSync(`${f}.4`)).toBe(false);
  });
});

describe("log tail", () => {
  test("last N lines, then only whole new lines, from 0 again after a rotation", async () => {
    const f = join(tempDir(), "a.log");
    writeFileSync(f, Array.from({ length: 50 }, (_, i) => `line ${i}`).join("\n") + "\n");
    const { lines, end } = await tailLines(f, 3);
    expect(lines).toEqual(["line 47", "line 48", "line 49"]);
    appendFileSync(f, "line 50\npartial");
    const next = await readNew(f, end);
    expect(next.text).toBe("line 50\n");
    await rotateIfLarge(f, 10, 1);
    appendFileSync(f, "fresh\n");
    expect((await readNew(f, next.end)).text).toBe("fresh\n");
  });
});
