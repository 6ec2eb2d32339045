// Zero-width characters show as nothing on a terminal: a key with one in it must not print as the
// key it imitates (`unknown key "host" — did you mean "host"?`).
import { expect, test } from "bun:test";
import { join } from "node:path";
import { oneLine } from "../../src/cli/one-line.ts";
import { runGw, tempFiles } from "../helpers/tmp.ts";

test("zero-width spaces, joiners, word joiner and BOM are shown escaped", async () => {
  expect(oneLine("a\u200bb\u200cc\u200dd\u2060e\ufefff")).toBe("a\\u200bb\\u200cc\\u200dd\\u2060e\\ufefff");
  const dir = tempFiles({ "providers.toml": '[global]\nmain_port = 8145\n"ho\u200bst" = "127.0.0.1"\n[instances.a]\nport = 8146\nproviders = [{ type = "antigravity" }]\n' });
  const r = await runGw(["check", "-c", join(dir, "providers.toml")]);
  expect(r.stderr).toContain('providers.toml:3:1  global."ho\\u200bst"  error: unknown key "ho\\u200bst" — did you mean "host"?');
});
