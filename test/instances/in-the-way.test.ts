// gen when something stands where the instance files belong: the hint names it and says to move
// it, not to grant rights that would change nothing.
import { expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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
