// What gw's everyday commands load before they do their work. Each module costs start-up time in
// the compiled binary (bench/startup.ts measures it; no time is asserted here): `gw --help` loaded
// all 24 commands, `gw --version` citty and the command helpers, `cld --help` the config reader.
import { describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { tempDir } from "../helpers/tmp.ts";

const ROOT = join(import.meta.dir, "../..");
const PROBE = join(import.meta.dir, "../helpers/loaded-modules.ts");
const home = tempDir();

/** The files gw loaded for `args` (relative to the checkout: src/…, node_modules/…). */
async function loaded(args: string[], argv0?: string): Promise<string[]> {
  const out = join(home, "loaded.json");
  rmSync(out, { force: true });
  const proc = Bun.spawn([process.execPath, "--preload", PROBE, join(ROOT, "src/main.ts"), ...args], {
    cwd: home,
    argv0,
    env: { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, ".cache"), GW_CONFIG: undefined, GW_LOADED_OUT: out, NO_COLOR: "1" },
    stdout: "ignore",
    stderr: "pipe",
  });
  const stderr = await new Response(proc.stderr).text();
  await proc.exited;
  const files = JSON.parse(readFileSync(out, "utf8")) as string[];
  if (files.length === 0) throw new Error(`nothing recorded: ${stderr}`);
  return files.map((f) => relative(ROOT, f)).filter((f) => !f.startsWith("test/"));
}

const packages = (files: readonly string[]) => [...new Set(files.flatMap((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)?.[1] ?? []))].sort();
const commandFiles = (files: readonly string[]) => files.filter((f) => f.startsWith("src/commands/")).sort();

describe("gw loads what the command needs", () => {
  test("gw --version: no package, no command, no help", async () => {
    const files = await loaded(["--version"]);
    expect(packages(files)).toEqual([]);
    expect(commandFiles(files)).toEqual(["src/commands/index.ts"]);
    expect(files).not.toContain("src/cli/usage.ts");
  });

  test("gw --help lists every command without loading one", async () => {
    const files = await loaded(["--help"]);
    expect(commandFiles(files)).toEqual(["src/commands/index.ts"]);
    expect(packages(files)).toEqual(["citty"]);
  });

  test("cld --help: neither citty nor the config reader nor the launch", async () => {
    const files = await loaded(["--help"], "cld");
    expect(packages(files)).toEqual([]);
    expect(files.filter((f) => f.startsWith("src/config/") || f.startsWith("src/run/"))).toEqual([]);
    expect(files).not.toContain("src/cld/start.ts");
  });

  test("gw status with none running: no consola, no load balancer", async () => {
    const files = await loaded(["status"]);
    expect(packages(files)).not.toContain("consola");
    expect(files.filter((f) => f.startsWith("src/lb/"))).toEqual([]);
  });
});
