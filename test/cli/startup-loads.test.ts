// What gw's everyday commands load before they do their work. Each module costs start-up time in
// the compiled binary (bench/startup.ts measures it; no time is asserted here): `gw --help` loaded
// all 24 commands, `gw --version` citty and the command helpers, `cld --help` the config reader.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { cldConfig } from "../helpers/cld.ts";
import { tempDir } from "../helpers/tmp.ts";

const ROOT = join(import.meta.dir, "../..");
const PROBE = join(import.meta.dir, "../helpers/loaded-modules.ts");
const home = tempDir();

/** What gw loaded for `args` (files relative to the checkout: src/…, node_modules/…), at its exit or its re-exec. */
async function loadedBy(args: string[], opts: { argv0?: string; until?: RegExp; path?: string; env?: Record<string, string> } = {}): Promise<{ at: "exit" | "execve"; files: string[] }> {
  const out = join(home, "loaded.json");
  rmSync(out, { force: true });
  const env: Record<string, string | undefined> = { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, ".cache"), GW_CONFIG: undefined, GW_LOADED_OUT: out, NO_COLOR: "1", ...(opts.path ? { PATH: opts.path } : {}) };
  for (const k of LB_SETTINGS) delete env[k]; // a gw up re-execs to set them, unless opts.env does
  Object.assign(env, opts.env);
  const proc = Bun.spawn([process.execPath, "--preload", PROBE, join(ROOT, "src/main.ts"), ...args], { cwd: home, argv0: opts.argv0, env, stdout: "pipe", stderr: "pipe" });
  const stderr = new Response(proc.stderr).text();
  const reader = proc.stdout.getReader();
  let stdout = "";
  if (opts.until) {
    // a gw that keeps serving: stopped (SIGTERM, its instances with it) once it printed `until`
    while (!opts.until.test(stdout)) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`gw ${args.join(" ")} ended before ${opts.until}: ${stdout}${await stderr}`);
      stdout += new TextDecoder().decode(value);
    }
    proc.kill("SIGTERM");
  }
  while (!(await reader.read()).done) {}
  await proc.exited;
  const got = JSON.parse(readFileSync(out, "utf8")) as { at: "exit" | "execve"; modules: string[] };
  return { at: got.at, files: got.modules.map((f) => relative(ROOT, f)).filter((f) => !f.startsWith("test/")) };
}

/** What gw loaded for `args`, when it ran to its end without a re-exec. */
async function loaded(args: string[], argv0?: string): Promise<string[]> {
  const got = await loadedBy(args, { argv0 });
  expect(got.at).toBe("exit");
  return got.files;
}

/** The LB's Bun settings (lb/concurrency.ts). */
const LB_SETTINGS = ["BUN_CONFIG_MAX_HTTP_REQUESTS", "MIMALLOC_PURGE_HOLES"];

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

  test("cld official, until it execs claude: no package, and of the config code only the loopback check", async () => {
    const bin = join(home, "bin");
    mkdirSync(bin, { recursive: true });
    if (!existsSync(join(bin, "claude"))) symlinkSync("/bin/true", join(bin, "claude")); // a claude that ends at once
    const got = await loadedBy(["official", "-p", "hi"], { argv0: "cld", path: `${bin}:${process.env.PATH}` });
    expect(got.at).toBe("execve");
    expect(packages(got.files)).toEqual([]);
    expect(got.files.filter((f) => f.startsWith("src/config/"))).toEqual(["src/config/loopback.ts"]);
  });

  test("cld cp FILTER whose fast role a scenario names, until it execs claude: the price catalogue is not evaluated", async () => {
    const bin = join(home, "bin");
    mkdirSync(bin, { recursive: true });
    if (!existsSync(join(bin, "claude"))) symlinkSync("/bin/true", join(bin, "claude")); // a claude that ends at once
    const routes = ["opus4.6", "g3p", "g3f", "g3f.auto", "kimi-k2"];
    // a running gw lists its windows, so cld needs the catalogue for none of them
    const gw = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json({ data: routes.map((id) => ({ id, max_input_tokens: 200_000 })) }) });
    try {
      const config = join(home, "cp.toml");
      writeFileSync(config, cldConfig(gw.port!));
      rmSync(join(home, ".cache/cld/cp"), { recursive: true, force: true }); // nothing remembered: the scenario names fast
      const got = await loadedBy(["cp", "g3f", "-p", "hi"], { argv0: "cld", path: `${bin}:${process.env.PATH}`, env: { CLD_TOML: config } });
      expect(got.at).toBe("execve");
      expect(got.files).toContain("src/catalog/routes.ts");
      expect(got.files.filter((f) => f.includes("node_modules/@pydantic/genai-prices/dist/"))).toEqual([]);
    } finally {
      gw.stop(true);
    }
  });

  test("gw status with none running: no consola, no load balancer", async () => {
    const files = await loaded(["status"]);
    expect(packages(files)).not.toContain("consola");
    expect(files.filter((f) => f.startsWith("src/lb/"))).toEqual([]);
  });

  test("TAB on a route name (gw _complete -- cld cp \"\") with no config: cld's config choice, but no package (citty, smol-toml), no config reader, no logins, no agent registry", async () => {
    const files = await loaded(["_complete", "--", "cld", "cp", ""]);
    expect(files).toContain("src/cld/source.ts");
    expect(packages(files)).toEqual([]);
    expect(files.filter((f) => f === "src/config/reader.ts" || f === "src/supervisor/login.ts" || f.startsWith("src/run/"))).toEqual([]);
  });

  test("TAB on a command name or an instance loads no more than that list needs", async () => {
    const commandNames = await loaded(["_complete", "--", "gw", ""]);
    expect(packages(commandNames)).toEqual([]);
    expect(commandNames.filter((f) => f.startsWith("src/config/") || f.startsWith("src/cld/") || f.startsWith("src/supervisor/"))).toEqual(["src/cld/args.ts"]);
    const instances = await loaded(["_complete", "--", "gw", "logs", ""]);
    expect(instances).toContain("src/config/index.ts");
    expect(instances.filter((f) => f.startsWith("src/cld/") || f === "src/supervisor/login.ts" || f.startsWith("src/run/"))).toEqual(["src/cld/args.ts"]);
  });

  test("TAB on gw run's agent and gw login's provider loads the registry and the logins it lists", async () => {
    expect(await loaded(["_complete", "--", "gw", "run", ""])).toContain("src/run/agents/index.ts");
    expect(await loaded(["_complete", "--", "gw", "login", "official", ""])).toContain("src/supervisor/login.ts");
  });

  test("gw up re-execs for the LB's settings before it loads the command: the demo was written twice, everything loaded twice", async () => {
    const got = await loadedBy(["up", "--port", "0"], { until: /serving on http/ });
    expect(got.at).toBe("execve");
    expect(commandFiles(got.files)).toEqual(["src/commands/index.ts"]);
    expect(got.files.filter((f) => f.startsWith("src/supervisor/"))).toEqual([]);
  });

  test("gw up serves without the price catalogue: it is loaded by the first lookup, and none is made before a request", async () => {
    const settings = Object.fromEntries(LB_SETTINGS.map((k) => [k, "1"])); // already set: no re-exec, the preload stays
    const got = await loadedBy(["up", "--port", "0"], { until: /serving on http/, env: settings });
    expect(got.at).toBe("exit");
    expect(got.files).toContain("src/catalog/models.ts");
    // its package.json (the catalogue's name and version) is read; its code is not
    expect(got.files.filter((f) => f.includes("node_modules/@pydantic/genai-prices/dist/"))).toEqual([]);
  });
});
