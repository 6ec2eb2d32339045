// gen when something stands where the instance files belong: the hint names it and says to move
// it, not to grant rights that would change nothing.
import { expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CliError } from "../../src/cli/errors.ts";
import { loadConfig } from "../../src/config/index.ts";
import { swapWithInstanceFiles, writeInstanceFiles } from "../../src/instances/write.ts";
import { runGw, tempFiles } from "../helpers/tmp.ts";

const TOML = '[global]\nmain_port = 8145\n[instances.a]\nport = 8146\nproviders = [{ type = "antigravity" }]\n';

test("instances a file, or instances/a.yaml a directory: what is in the way is named, with moving it as the fix", async () => {
  const fileDir = tempFiles({ "providers.toml": TOML });
  writeFileSync(join(fileDir, "instances"), "");
  const a = await runGw(["gen", "-c", join(fileDir, "providers.toml")]);
  expect(a.code).toBe(1);
  expect(a.stderr).toContain(`${join(fileDir, "instances")} is a file where gw keeps a directory: move it away, then run this again`);
  const dirDir = tempFiles({ "providers.toml": TOML });
  mkdirSync(join(dirDir, "instances", "a.yaml"), { recursive: true });
  const b = await runGw(["gen", "-c", join(dirDir, "providers.toml")]);
  expect(b.code).toBe(1);
  expect(b.stderr).toContain(`${join(dirDir, "instances", "a.yaml")} is a directory: move it away, gw writes this instance's YAML there`);
  for (const out of [a.stderr, b.stderr]) expect(out).not.toContain("let this user write");
});

test("a file that cannot be replaced when the new files are renamed in: all or nothing — the ones before it get their old text back, no temp file stays, one line", async () => {
  const dir = tempFiles({ "providers.toml": `${TOML}[instances.b]\nport = 8147\nproviders = [{ type = "antigravity" }]\n` });
  const first = await loadConfig(join(dir, "providers.toml"));
  await writeInstanceFiles(first.config!);
  const before = { a: readFileSync(join(dir, "instances", "a.yaml"), "utf8"), b: readFileSync(join(dir, "instances", "b.yaml"), "utf8") };
  writeFileSync(join(dir, "providers.toml"), `${TOML.replace("8146", "8156")}[instances.b]\nport = 8157\nproviders = [{ type = "antigravity" }]\n`);
  const next = await loadConfig(join(dir, "providers.toml"));
  const b = join(dir, "instances", "b.yaml");
  // Between staging and renaming (a reload's swap runs there), b.yaml turns into a directory with something in it.
  const swap = () => {
    rmSync(b);
    mkdirSync(b);
    writeFileSync(join(b, "x"), "");
    return [];
  };
  const err = await swapWithInstanceFiles(next.config!, swap).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(CliError);
  expect((err as CliError).message).toStartWith(`cannot write ${b}: `);
  expect(readFileSync(join(dir, "instances", "a.yaml"), "utf8")).toBe(before.a);
  expect(before.b).toContain("8147");
  expect(readdirSync(join(dir, "instances")).sort()).toEqual(["a.yaml", "b.yaml"]);
});
