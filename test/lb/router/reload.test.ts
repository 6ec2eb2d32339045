// The router's config_file is part of the config: editing it (even in another directory)
// reloads, and a broken edit of it keeps the running config like a broken providers.toml does.
import { expect, test } from "bun:test";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../../src/config/index.ts";
import { createReloader } from "../../../src/lb/reload.ts";
import type { Config } from "../../../src/config/types.ts";
import { waitFor } from "../../helpers/lb.ts";
import { tempDir } from "../../helpers/tmp.ts";

const MAIN = `[global]
main_port = 8145
host = "127.0.0.1"
[global.lb_model_router]
config_file = "router/rules.toml"
[instances.a]
url = "http://127.0.0.1:9"
providers = [{ type = "anthropic", api_keys = ["k"] }]
[routing]
"x" = [{ instance = "a", provider = "anthropic", model = "x" }]
"y" = [{ instance = "a", provider = "anthropic", model = "y" }]
`;
const rules = (target: string, extra = "") => `[lb_model_router]\nenabled = true\ndefault_model = "${target}"\n${extra}`;

test("an edit of the included router file reloads; a broken one keeps the running config", async () => {
  const dir = tempDir();
  mkdirSync(join(dir, "router"));
  const include = join(dir, "router", "rules.toml");
  const save = (text: string) => {
    writeFileSync(`${include}.tmp`, text);
    renameSync(`${include}.tmp`, include);
  };
  save(rules("x"));
  writeFileSync(join(dir, "providers.toml"), MAIN);
  const first = (await loadConfig(join(dir, "providers.toml"))).config!;
  expect(first.global.lb.router!.defaultModel).toBe("x");
  let running: Config = first;
  const errors: string[] = [];
  const log = { info() {}, warn() {}, error: (m: string) => void errors.push(m) };
  const reloader = createReloader({ file: first.file, includes: first.includes, log, apply: (c) => void (running = c), sighup: false, debounceMs: 50 });
  try {
    save(rules("y"));
    await waitFor(() => running.global.lb.router?.defaultModel === "y", 10_000, "the include's edit to be applied");
    save(rules("x", "enabled = \n"));
    await waitFor(() => errors.some((e) => e.includes("rules.toml")), 10_000, "the broken include to be reported");
    expect(running.global.lb.router!.defaultModel).toBe("y");
  } finally {
    reloader.close();
  }
});

test("a config_file missing at load, and its directory, is watched for: creating it reloads", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "providers.toml"), MAIN.replace("router/rules.toml", "router/rules3.toml"));
  const loaded = await loadConfig(join(dir, "providers.toml"));
  expect(loaded.problems.some((p) => p.message.includes("does not exist"))).toBe(true);
  const first = loaded.config!;
  expect(first.global.lb.router!.defaultModel).toBeUndefined();
  let running: Config = first;
  let reloads = 0;
  const log = { info: () => void reloads++, warn() {}, error() {} };
  const reloader = createReloader({ file: first.file, includes: first.includes, log, apply: (c) => void (running = c), sighup: false, debounceMs: 50 });
  try {
    // The directory first: its creation reloads (the file is still missing), and that reload
    // follows the file inside it.
    mkdirSync(join(dir, "router"));
    await waitFor(() => reloads === 1, 10_000, "the new directory to reload");
    expect(running.global.lb.router!.defaultModel).toBeUndefined();
    writeFileSync(join(dir, "router", "rules3.toml"), '[lb_model_router]\ndefault_model = "y"\n');
    await waitFor(() => running.global.lb.router?.defaultModel === "y", 10_000, "the created include to be applied");
  } finally {
    reloader.close();
  }
});
