// The auth dirs `gw deploy` packs for the host: a cloned repo's config may name directories it
// brings after tar's options. Packing them must run nothing here and carry them as files.
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { packAuthDirs } from "../../src/deploy/deploy.ts";
import { tempDir } from "../helpers/tmp.ts";

test("auth dirs named like tar options are packed as directories, never run", async () => {
  const dir = tempDir("gw-pack-");
  // tar runs an exec action through sh, with the archive's path as $TAR_ARCHIVE: the mark lands beside it.
  const crafted = ["--checkpoint=1", "--checkpoint-action=exec=touch $TAR_ARCHIVE.PWNED"];
  for (const d of [...crafted, "auths/a"]) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, "auths/a/antigravity-me.json"), "{}\n");
  const tarball = join(dir, "auths.tar.gz");
  await packAuthDirs(dir, tarball, [...crafted, "auths/a"]);
  expect(existsSync(`${tarball}.PWNED`)).toBe(false);
  const listed = Bun.spawnSync(["tar", "-tzf", tarball]).stdout.toString().split("\n").filter(Boolean);
  expect(listed).toEqual(expect.arrayContaining(["./--checkpoint=1/", "./--checkpoint-action=exec=touch $TAR_ARCHIVE.PWNED/", "./auths/a/antigravity-me.json"]));
});
