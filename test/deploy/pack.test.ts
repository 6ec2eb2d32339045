// The auth dirs `gw deploy` packs for the host: a cloned repo's config may name directories it
// brings after tar's options. Packing them must run nothing here and carry them as files.
import { expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, realpathSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { InstanceConfig } from "../../src/config/types.ts";
import { authDirs, notCopiedLine, packRelative } from "../../src/deploy/deploy.ts";
import { hostPaths, stageScript } from "../../src/deploy/scripts.ts";
import { tempDir } from "../helpers/tmp.ts";

test("auth dirs named like tar options are packed as directories, never run", async () => {
  const dir = tempDir("gw-pack-");
  // tar runs an exec action through sh, with the archive's path as $TAR_ARCHIVE: the mark lands beside it.
  const crafted = ["--checkpoint=1", "--checkpoint-action=exec=touch $TAR_ARCHIVE.PWNED"];
  for (const d of [...crafted, "auths/a"]) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, "auths/a/antigravity-me.json"), "{}\n");
  const tarball = join(dir, "auths.tar.gz");
  await packRelative(dir, tarball, [...crafted, "auths/a"]);
  expect(existsSync(`${tarball}.PWNED`)).toBe(false);
  const listed = Bun.spawnSync(["tar", "-tzf", tarball]).stdout.toString().split("\n").filter(Boolean);
  expect(listed).toEqual(expect.arrayContaining(["./--checkpoint=1/", "./--checkpoint-action=exec=touch $TAR_ARCHIVE.PWNED/", "./auths/a/antigravity-me.json"]));
});

test("an auth dir reached through a link out of the folder (h -> elsewhere, auth_dir = \"h/creds\"; auths/b -> elsewhere) is outside: not packed", () => {
  const dir = tempDir("gw-pack-");
  const elsewhere = tempDir("gw-pack-elsewhere-");
  mkdirSync(join(elsewhere, "creds"));
  writeFileSync(join(elsewhere, "creds", "id_ed25519"), "a private key\n");
  symlinkSync(elsewhere, join(dir, "h"));
  mkdirSync(join(dir, "auths/a"), { recursive: true });
  symlinkSync(join(elsewhere, "creds"), join(dir, "auths/b"));
  const inst = (authDir: string) => ({ managed: true, authDir: join(dir, authDir) }) as InstanceConfig;
  expect(authDirs({ dir, instances: [inst("h/creds"), inst("auths/a"), inst("auths/b")] })).toEqual({ inside: ["auths/a"], outside: [join(dir, "h/creds"), join(dir, "auths/b")] });
});

test("an auth dir not copied is said in one line with its fix: outside by its path, or inside by name but led out by a link (not 'is outside' of the folder it names)", () => {
  const dir = tempDir("gw-pack-");
  const elsewhere = tempDir("gw-pack-elsewhere-");
  mkdirSync(join(dir, "auths"));
  symlinkSync(elsewhere, join(dir, "auths/b"));
  expect(notCopiedLine(dir, "/opt/creds")).toBe(`not copied: auth_dir /opt/creds is outside ${dir} (the host must have it at that path)`);
  const linked = notCopiedLine(dir, join(dir, "auths/b"));
  expect(linked).toBe(`not copied: auth_dir ${join(dir, "auths/b")} leads through a link to ${realpathSync(elsewhere)}, outside ${dir} — copy it to the host yourself, or put the directory itself in place of the link`);
  expect(linked).not.toContain("\n");
});

test("credentials packed open (0644 in a 0755 dir) are private on the host from the moment they are unpacked, before gw runs there", async () => {
  const local = tempDir("gw-pack-");
  mkdirSync(join(local, "auths/a"), { recursive: true, mode: 0o755 });
  writeFileSync(join(local, "auths/a/claude-me.json"), "{}\n", { mode: 0o644 });
  chmodSync(join(local, "auths/a"), 0o755);
  chmodSync(join(local, "auths/a/claude-me.json"), 0o644);
  const host = hostPaths(tempDir("gw-pack-host-"));
  mkdirSync(host.next, { recursive: true });
  await packRelative(local, join(host.next, "auths.tar.gz"), ["auths/a"]);
  // The host's gw as the stage runs it: --version and check answer, nothing else is done.
  writeFileSync(join(host.dir, "gw"), "#!/bin/sh\n[ \"$1\" = --version ] && echo '{}'\nexit 0\n", { mode: 0o755 });
  const r = Bun.spawnSync(["sh", "-c", stageScript(host, "same binary")], { stderr: "pipe" });
  expect(r.stderr.toString()).toBe("");
  expect(r.exitCode).toBe(0);
  for (const [p, mode] of [["auths/a", 0o700], ["auths/a/claude-me.json", 0o600]] as const) {
    expect({ p, mode: statSync(join(host.next, "auths-in", p)).mode & 0o777 }).toEqual({ p, mode });
  }
});
