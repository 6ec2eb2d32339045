// A release archive is the same bytes for the same binary and build date: whatever the umask,
// the files' mtimes or the moment it is made. Real tar and gzip, real files.
import { expect, test } from "bun:test";
import { chmodSync, mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { archiveDir } from "../../src/release/archive.ts";
import { sha256File } from "../../src/fs/sha256.ts";
import { tempDir } from "../helpers/tmp.ts";

const DATE = "2026-12-01T10:00:00.000Z";

/** A release folder as a build leaves it, with this umask's modes and this moment's mtimes. */
function built(root: string, mode: number, mtime: number): string {
  const dir = join(root, "gw-9.9.9-linux-x64");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "gw"), "#!/bin/sh\necho gw\n");
  chmodSync(join(dir, "gw"), mode);
  chmodSync(dir, mode);
  utimesSync(join(dir, "gw"), mtime, mtime);
  utimesSync(dir, mtime, mtime);
  return root;
}

test("two builds of the same binary on the same date make the same archive; entries are root's, 0755, dated by the build", async () => {
  const a = built(tempDir("gw-arch-a-"), 0o775, 1_700_000_000);
  const b = built(tempDir("gw-arch-b-"), 0o700, 1_800_000_000);
  await archiveDir(a, "gw-9.9.9-linux-x64", join(a, "x.tar.gz"), DATE);
  await archiveDir(b, "gw-9.9.9-linux-x64", join(b, "x.tar.gz"), DATE);
  expect(await sha256File(join(a, "x.tar.gz"))).toBe(await sha256File(join(b, "x.tar.gz")));
  const list = Bun.spawnSync(["tar", "--full-time", "-tvzf", join(a, "x.tar.gz")], { env: { ...process.env, TZ: "UTC" } }).stdout.toString().trim().split("\n");
  expect(list.map((l) => l.split(/\s+/).slice(0, 2).concat(l.split(/\s+/).slice(3)).join(" "))).toEqual([
    "drwxr-xr-x 0/0 2026-12-01 10:00:00 gw-9.9.9-linux-x64/",
    "-rwxr-xr-x 0/0 2026-12-01 10:00:00 gw-9.9.9-linux-x64/gw",
  ]);
});

test("another date is another archive", async () => {
  const a = built(tempDir("gw-arch-c-"), 0o755, 1_700_000_000);
  await archiveDir(a, "gw-9.9.9-linux-x64", join(a, "x.tar.gz"), DATE);
  await archiveDir(a, "gw-9.9.9-linux-x64", join(a, "y.tar.gz"), "2026-12-02T10:00:00.000Z");
  expect(await sha256File(join(a, "x.tar.gz"))).not.toBe(await sha256File(join(a, "y.tar.gz")));
});
