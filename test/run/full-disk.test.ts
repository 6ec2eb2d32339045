// gw run codex / gemini / opencode / qwen with HOME on a full disk (a small tmpfs in a user + mount namespace,
// test/helpers/full-disk.ts): one line on what it cannot write, the agent starts, no file left
// half or emptied — as cld does (test/cld/full-disk.test.ts).
import { expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CldSandbox, gatewayForFile, MAIN } from "../helpers/cld.ts";
import { fullDisksForFile } from "../helpers/full-disk.ts";

const fullDisk = fullDisksForFile(); // closed first, as the sandbox they are in is removed next
const gateway = gatewayForFile();

const config = (port: number) => `[global]\nhost = "127.0.0.1"\nmain_port = ${port}\napi_keys = ["sk-run-key-0123456789"]\n
[instances.a]\nport = ${port + 1}\nproviders = [{ type = "antigravity" }]\n
[routing]\n"fast-gemini" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }]\n"gpt5" = [{ instance = "a", provider = "antigravity", model = "gpt-5" }]\n`;

/** A sandbox with HOME on a full 1 MiB tmpfs; `home(p)` is p under HOME as the test sees it. */
async function fullHome(agent: string) {
  const box = new CldSandbox({ noClaude: true, agents: [agent] });
  const toml = box.writeConfig("gw.toml", config(gateway.port!));
  const disk = await fullDisk(box.home, join(box.dir, "ctl"), "1m");
  const home = (p: string) => disk.view(join(box.home, p));
  const run = (...args: string[]) => disk.run([process.execPath, MAIN, "run", agent, "-c", toml, ...args], box.env());
  const temps = () => readdirSync(home(""), { recursive: true }).map(String).filter((n) => n.includes(".tmp-"));
  return { box, disk, home, run, temps };
}

test("gw run codex with HOME on a full disk: one line on what it cannot write, Codex starts pointed at the gateway, the user's own file whole", async () => {
  const { box, disk, home, run, temps } = await fullHome("codex");
  const own = `model = "o3"\n\n[projects."/w"]\ntrust_level = "trusted"\n`;
  mkdirSync(home(".codex"));
  writeFileSync(home(".codex/config.toml"), own);
  disk.fill();

  const r = await run("gpt5", "exec", "x");
  const managed = join(box.home, ".cache/cld/codex");
  expect(r.stderr).toContain(`\ngw run codex: cannot write ${managed}/gw-bundled-models.json: no space left on the device — Codex CLI starts with it as it was\n`);
  expect(r.stderr.match(/cannot write/g)).toHaveLength(1);
  expect(r.stderr).not.toContain("    at ");
  expect(r.code).toBe(0);
  expect(r.stdout).toBe("fake codex ran\n");
  // What config.toml would have said, on Codex's command line: it talks with the gateway, not OpenAI.
  const url = `http://127.0.0.1:${gateway.port}/v1`;
  expect(box.lastCall()!.argv).toEqual([
    "-c", 'model="gpt5"', "-c", 'model_provider="gw"', "-c", "model_context_window=400000",
    "-c", `model_providers.gw={name="gw",base_url="${url}",env_key="GW_API_KEY",wire_api="responses"}`,
    "exec", "x",
  ]);
  expect(readFileSync(home(".codex/config.toml"), "utf8")).toBe(own);
  expect(temps()).toEqual([]);

  disk.free();
  const again = await run("gpt5", "exec", "x");
  expect(again.stderr).not.toContain("cannot write");
  expect(box.lastCall()!.argv).toEqual(["exec", "x"]);
  expect(readFileSync(home(".cache/cld/codex/config.toml"), "utf8")).toContain(`base_url = "${url}"`);

  // Full again, the same launch: nothing to write, nothing to say.
  disk.fill();
  const same = await run("gpt5", "exec", "x");
  expect(same.stderr).not.toContain("cannot write");
  expect(box.lastCall()!.argv).toEqual(["exec", "x"]);
}, 60_000);

test("gw run gemini with HOME on a full disk: stops in one line when its settings never selected the key; starts with them as they were once they do", async () => {
  const { box, disk, home, run, temps } = await fullHome("gemini");
  const settings = join(box.home, ".cache/cld/gemini/.gemini/settings.json");
  disk.fill();

  const first = await run("fast-gemini", "-p", "x");
  // The command runs in HOME: the path is said relative to it, as every CliError says one.
  expect(first.stderr).toContain(`\ngw: cannot write .cache/cld/gemini/.gemini/settings.json: no space left on the device\n  free some space on that disk, then run it again\n`);
  expect(first.stderr.match(/cannot write/g)).toHaveLength(1);
  expect(first.stderr).not.toContain("    at ");
  expect(first.stdout).toBe("");
  expect(first.code).toBe(1);
  expect(temps()).toEqual([]);

  disk.free();
  expect((await run("fast-gemini", "-p", "x")).stderr).not.toContain("cannot write");
  const written = readFileSync(disk.view(settings), "utf8");

  disk.fill();
  const r = await run("gpt5", "-p", "x"); // another route: settings.json would change
  expect(r.stderr).toContain(`\ngw run gemini: cannot write ${settings}: no space left on the device — Gemini CLI starts with it as it was\n`);
  expect(r.stderr.match(/cannot write/g)).toHaveLength(1);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe("fake gemini ran\n");
  expect(box.lastCall()!.env.GEMINI_MODEL).toBe("gpt5");
  expect(readFileSync(disk.view(settings), "utf8")).toBe(written);
  expect(temps()).toEqual([]);
}, 60_000);

test("gw run opencode with HOME on a full disk: nothing to write, nothing to say; its config goes in OPENCODE_CONFIG_CONTENT as always", async () => {
  const { box, disk, run, temps } = await fullHome("opencode");
  disk.fill();

  const r = await run("gpt5", "run", "x");
  expect(r.stderr).not.toContain("cannot write");
  expect(r.code).toBe(0);
  expect(r.stdout).toBe("fake opencode ran\n");
  const env = box.lastCall()!.env;
  expect(env.OPENCODE_CONFIG).toBeUndefined();
  const inline = JSON.parse(env.OPENCODE_CONFIG_CONTENT!);
  expect(inline).toMatchObject({ model: "gw/gpt5", provider: { gw: { options: { baseURL: `http://127.0.0.1:${gateway.port}/v1`, apiKey: "{env:GW_API_KEY}" } } } });
  expect(Object.keys(inline.provider.gw.models)).toEqual(["fast-gemini", "gpt5"]);
  expect(env.GW_API_KEY).toBe("sk-run-key-0123456789");
  expect(temps()).toEqual([]);
}, 60_000);

test("gw run qwen with HOME on a full disk: one line, and Qwen Code starts on the route and the gateway from its command line", async () => {
  const { box, disk, run, temps } = await fullHome("qwen");
  disk.fill();

  const r = await run("gpt5", "-p", "x");
  const file = join(box.home, ".cache/cld/qwen/settings.json");
  expect(r.stderr).toContain(`\ngw run qwen: cannot write ${file}: no space left on the device — Qwen Code starts with the route and the gateway from its command line, without the route's window or a session id\n`);
  expect(r.stderr.match(/cannot write/g)).toHaveLength(1);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe("fake qwen ran\n");
  const call = box.lastCall()!;
  expect(call.argv).toEqual(["--auth-type", "anthropic", "--model", "gpt5", "-p", "x"]);
  expect(call.env).toMatchObject({ ANTHROPIC_BASE_URL: `http://127.0.0.1:${gateway.port}`, ANTHROPIC_API_KEY: "sk-run-key-0123456789" });
  expect(call.env.QWEN_CODE_SYSTEM_SETTINGS_PATH).toBeUndefined();
  expect(temps()).toEqual([]);

  disk.free();
  const again = await run("gpt5", "-p", "x");
  expect(again.stderr).not.toContain("cannot write");
  expect(box.lastCall()!.argv).toEqual(["-p", "x"]);
  expect(box.lastCall()!.env).toMatchObject({ QWEN_CODE_SYSTEM_SETTINGS_PATH: file, GW_API_KEY: "sk-run-key-0123456789" });
  expect(JSON.parse(readFileSync(disk.view(file), "utf8"))).toMatchObject({ model: { name: "gpt5" }, security: { auth: { selectedType: "anthropic" } } });
}, 60_000);
