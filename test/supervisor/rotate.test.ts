import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { type Emptied, rotateIfLarge, rotationCheck } from "../../src/supervisor/rotate.ts";
import { type FullDisk, fullDisk } from "../helpers/full-disk.ts";
import { readNew, tailLines } from "../../src/supervisor/logtail.ts";
import { tempDir } from "../helpers/tmp.ts";

describe("rotateIfLarge", () => {
  test("leaves a small file alone", async () => {
    const f = join(tempDir(), "a.log");
    writeFileSync(f, "x\n");
    expect(await rotateIfLarge(f, 100, 3)).toBe(false);
    expect(existsSync(`${f}.1`)).toBe(false);
  });

  test("a log that is a hard link to a file elsewhere (a folder copied with cp -al) is refused in gw's words, neither copied nor truncated", async () => {
    const dir = tempDir();
    const other = join(dir, "other.txt");
    writeFileSync(other, "y".repeat(200));
    mkdirSync(join(dir, "logs"));
    const f = join(dir, "logs", "a.log");
    linkSync(other, f);
    await expect(rotateIfLarge(f, 100, 3)).rejects.toThrow(`${f} is a hard link (2 names for one file); gw does not write through it — remove it and try again`);
    expect(readFileSync(other, "utf8")).toBe("y".repeat(200));
    expect(readdirSync(join(dir, "logs"))).toEqual(["a.log"]);
  });

  test("shifts generations, keeps N, and a writer holding the file in append mode continues at the start", async () => {
    const f = join(tempDir(), "a.log");
    const fd = openSync(f, "a"); // like an instance's stdout
    for (let gen = 1; gen <= 5; gen++) {
      writeSync(fd, `generation ${gen} `.padEnd(100, "x") + "\n");
      expect(await rotateIfLarge(f, 200, 3)).toBe(false);
      writeSync(fd, `generation ${gen} `.padEnd(100, "y") + "\n");
      expect(await rotateIfLarge(f, 200, 3)).toBe(true);
    }
    writeSync(fd, "after\n");
    closeSync(fd);
    expect(readFileSync(f, "utf8")).toBe("after\n");
    expect(readFileSync(`${f}.1`, "utf8")).toBe(`${"generation 5 ".padEnd(100, "x")}\n${"generation 5 ".padEnd(100, "y")}\n`);
    expect(readFileSync(`${f}.3`, "utf8")).toStartWith("generation 3");
    expect(existsSync(`${f}.4`)).toBe(false);
  });

  test("a log past twice its cap (a storm between two checks) keeps its last cap's worth, from a line's start, and says what was left out", async () => {
    const f = join(tempDir(), "a.log");
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i} `.padEnd(99, ".") + "\n"); // 100 bytes each
    writeFileSync(f, lines.join(""));
    expect(await rotateIfLarge(f, 1050, 3)).toBe(true);
    const kept = readFileSync(`${f}.1`, "utf8").split("\n");
    expect(kept[0]).toBe("[gw] 99000 bytes of older lines left out: this log grew past its 1050-byte cap between two of gw's checks");
    expect(kept.slice(1).join("\n")).toBe(lines.slice(990).join(""));
    expect(readFileSync(f, "utf8")).toBe("");
  });

  test("one line longer than the cap is cut, not dropped whole", async () => {
    const f = join(tempDir(), "a.log");
    writeFileSync(f, `${"a".repeat(300)}\n${"b".repeat(300)}\n`);
    expect(await rotateIfLarge(f, 100, 3)).toBe(true);
    expect(readFileSync(`${f}.1`, "utf8")).toEndWith(`\n${"b".repeat(99)}\n`);
  });
});

describe("rotation on a full disk (a small tmpfs, test/helpers/full-disk.ts)", () => {
  const disks: FullDisk[] = [];
  afterAll(async () => {
    for (const d of disks) await d.close();
  });
  /** A log over its cap on a full 1 MiB tmpfs, with an earlier generation beside it. */
  async function fullLog() {
    const dir = tempDir();
    const disk = await fullDisk(join(dir, "logs"), join(dir, "ctl"), "1m");
    disks.push(disk);
    const log = disk.view(join(dir, "logs", "a.log"));
    writeFileSync(`${log}.1`, "generation 1\n");
    writeFileSync(log, "old line\n".repeat(20_000)); // 180 kB
    disk.fill();
    return { disk, log, temps: () => readdirSync(disk.view(join(dir, "logs"))).filter((n) => n.includes(".tmp-")) };
  }

  test("no room for the copy: the log is emptied all the same, the older generations kept as they were, nothing half left", async () => {
    const { log, temps } = await fullLog();
    const emptied: Emptied[] = [];
    expect(await rotateIfLarge(log, 100_000, 3, (e) => emptied.push(e))).toBe(true);
    expect(statSync(log).size).toBe(0);
    expect(readFileSync(`${log}.1`, "utf8")).toBe("generation 1\n");
    expect(existsSync(`${log}.2`)).toBe(false);
    expect(temps()).toEqual([]);
    expect(emptied).toEqual([{ copy: `${log}.1`, err: expect.objectContaining({ code: "ENOSPC" }), lost: 180_000 }]);
    appendFileSync(log, "a new line\n"); // its room is back
  });

  test("said once in gw's words while the disk stays full; again in a later episode, after a rotation that went as it should", async () => {
    const { disk, log } = await fullLog();
    const warned: string[] = [];
    const check = rotationCheck(() => [log], { logMaxBytes: 100_000, logKeep: 3 }, (m) => warned.push(m));
    const line = `log rotation: cannot write ${log}.1: no space left on the device; ${log} was emptied without it (180000 bytes of old lines lost) so that its new lines find room`;
    await check();
    expect(statSync(log).size).toBe(0);
    expect(warned).toEqual([line]);
    writeFileSync(log, "old line\n".repeat(15_000)); // over the cap again, on the room it freed
    disk.fill();
    await check();
    expect(statSync(log).size).toBe(0);
    expect(warned).toEqual([line]); // the same trouble: not said again

    disk.free();
    writeFileSync(log, "kept line\n".repeat(15_000));
    await check();
    expect(readFileSync(`${log}.1`, "utf8")).toStartWith("kept line\n"); // copied: nothing lost
    writeFileSync(log, "old line\n".repeat(20_000));
    disk.fill();
    await check();
    expect(warned).toEqual([line, line]); // a later episode is said again
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

  test("N long lines are N lines: the window read back grows until it holds them", async () => {
    const f = join(tempDir(), "a.log");
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} `.padEnd(1023, "x"));
    writeFileSync(f, lines.join("\n") + "\n"); // 2 MB
    expect((await tailLines(f, 1000)).lines).toEqual(lines.slice(1000));
    expect((await tailLines(f, 5000)).lines).toEqual(lines);
  });
});
