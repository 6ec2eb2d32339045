// Files from someone else's folder are read only when they are regular files of bounded size:
// a FIFO would block the open for ever, /dev/zero would never end.
import { expect, test } from "bun:test";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readSmallFile } from "../../src/fs/read-small.ts";
import { tempDir } from "../helpers/tmp.ts";

test("a regular file is read whole; a link to one too", () => {
  const dir = tempDir("gw-read-small-");
  writeFileSync(join(dir, "a.yaml"), "port: 8146\n");
  symlinkSync(join(dir, "a.yaml"), join(dir, "link.yaml"));
  for (const f of ["a.yaml", "link.yaml"]) {
    const r = readSmallFile(join(dir, f), 1 << 20);
    expect("bytes" in r && new TextDecoder().decode(r.bytes)).toBe("port: 8146\n");
  }
});

test("a FIFO, a device, a directory, a missing or too large file: why, never a wait", () => {
  const dir = tempDir("gw-read-small-");
  Bun.spawnSync(["mkfifo", join(dir, "fifo")]);
  symlinkSync(join(dir, "fifo"), join(dir, "to-fifo"));
  writeFileSync(join(dir, "big"), "x".repeat(2048));
  expect(readSmallFile(join(dir, "fifo"), 1 << 20)).toEqual({ why: "is not a regular file" });
  expect(readSmallFile(join(dir, "to-fifo"), 1 << 20)).toEqual({ why: "is not a regular file" });
  expect(readSmallFile("/dev/zero", 1 << 20)).toEqual({ why: "is not a regular file" });
  expect(readSmallFile(dir, 1 << 20)).toEqual({ why: "is a directory, not a file" });
  expect(readSmallFile(join(dir, "nope"), 1 << 20)).toEqual({ why: "does not exist" });
  expect(readSmallFile(join(dir, "big"), 1024)).toEqual({ why: "is over 1024 bytes" });
  expect(readSmallFile(join(dir, "big"), 1 << 20)).toMatchObject({ bytes: expect.any(Uint8Array) });
});
