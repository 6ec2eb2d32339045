// gw run as a child process against fake agents: what the user types → what the agent receives.
import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fingerprint, rememberConfirmed } from "../../src/cld/confirmed.ts";
import { CldSandbox, closedPort, gatewayForFile, RUN } from "../helpers/cld.ts";

const gateway = gatewayForFile();

/** Routes of three families; "fast-gemini" comes first in the file. */
function config(port: number, extra = ""): string {
  const route = (model: string) => `[{ instance = "a", provider = "antigravity", model = "${model}" }]`;
  return `[global]\nhost = "127.0.0.1"\nmain_port = ${port}\napi_keys = ["sk-run-key"]\n${extra}\n
[instances.a]\nport = ${port === 65535 ? port - 1 : port + 1}\nproviders = [{ type = "antigravity" }]\n
[routing]\n"fast-gemini" = ${route("gemini-3-flash")}\n"opus4.6" = ${route("claude-opus-4-6-thinking")}\n"fast-gpt" = ${route("gpt-5-mini")}\n"gpt5" = ${route("gpt-5")}\n`;
}

describe("gw run with FILTER (no questions)", () => {
  const box = new CldSandbox({ noClaude: true, agents: ["codex", "gemini"] });
  const toml = box.writeConfig("gw.toml", config(gateway.port!));

  test("codex: the native route wins a shared filter; -y becomes its own flag in place; same PID; key only in the environment", async () => {
    const r = await box.run(["codex", "-c", toml, "fast", "exec", "-y", "fix it", "--json"], { cmd: RUN });
    const url = `http://127.0.0.1:${gateway.port}`;
    expect(r.stderr).toBe(`gw run codex: config gw.toml (-c) → ${url}\ngw run codex: route fast-gpt (gpt-5-mini · 400k context) → ${url}\n`);
    expect(r.code).toBe(0);
    expect(r.stdout).toEndWith("fake codex ran\n");
    expect(r.call!.pid).toBe(r.pid); // execve: codex took over our process
    expect(r.call!.argv).toEqual(["exec", "--dangerously-bypass-approvals-and-sandbox", "fix it", "--json"]);
    const home = join(box.home, ".cache/cld/codex");
    expect(r.call!.env).toMatchObject({ CODEX_HOME: home, GW_API_KEY: "sk-run-key", OPENAI_BASE_URL: "" });
    const written = readFileSync(join(home, "config.toml"), "utf8");
    expect(written).toContain('model = "fast-gpt"');
    expect(written).not.toContain("sk-run-key");
    expect(readFileSync(join(home, "last_route"), "utf8")).toBe("fast-gpt\n");
  });

  test("codex with a shared background server: started without it, so this launch's gateway key reaches it", async () => {
    // As Codex 0.171 is: `codex --help` lists --no-daemon. Its daemon keeps the environment of the
    // launch that started it, so a later launch on another gateway sent the old key (401).
    const daemonBox = new CldSandbox({ noClaude: true, agents: ["codex"] });
    renameSync(join(daemonBox.bin, "codex"), join(daemonBox.bin, "codex-recorded"));
    writeFileSync(join(daemonBox.bin, "codex"), `#!/bin/sh\nif [ "$1" = --help ]; then printf 'Options:\\n      --no-daemon\\n          Run without the shared background server\\n'; exit 0; fi\nexec "\${0%/*}/codex-recorded" "$@"\n`, { mode: 0o755 });
    const daemonToml = daemonBox.writeConfig("gw.toml", config(gateway.port!));
    const r = await daemonBox.run(["codex", "-c", daemonToml, "gpt5", "exec", "fix it"], { cmd: RUN });
    expect(r.code).toBe(0);
    expect(r.call!.argv).toEqual(["--no-daemon", "exec", "fix it"]);
    expect(r.call!.env).toMatchObject({ GW_API_KEY: "sk-run-key" });
    // The answer is remembered with the Codex it came from: the next launch asks nothing.
    const again = await daemonBox.run(["codex", "-c", daemonToml, "gpt5"], { cmd: RUN });
    expect(again.call!.argv).toEqual(["--no-daemon"]);
  });

  test("codex's own --config key=value reaches it unchanged; the config stays the one -c named", async () => {
    for (const flag of [["--config", "model_reasoning_effort=high"], ["--config=model_reasoning_effort=high"]]) {
      const r = await box.run(["codex", "-c", toml, "gpt5", "exec", "--skip-git-repo-check", ...flag, "hi"], { cmd: RUN });
      expect(r.stderr).toStartWith(`gw run codex: config gw.toml (-c) → http://127.0.0.1:${gateway.port}\n`);
      expect(r.code).toBe(0);
      expect(r.call!.argv).toEqual(["exec", "--skip-git-repo-check", ...flag, "hi"]);
    }
  });

  test("after the agent's own arguments began, --help and -- are the agent's; before them --help is gw's", async () => {
    const help = await box.run(["codex", "-c", toml, "gpt5", "exec", "--help"], { cmd: RUN });
    expect(help.code).toBe(0);
    expect(help.stdout).toBe("fake codex ran\n");
    expect(help.call!.argv).toEqual(["exec", "--help"]);
    const dashes = await box.run(["codex", "-c", toml, "gpt5", "exec", "--skip-git-repo-check", "--", "--weird prompt"], { cmd: RUN });
    expect(dashes.call!.argv).toEqual(["exec", "--skip-git-repo-check", "--", "--weird prompt"]);
    const own = await box.run(["codex", "-c", toml, "gpt5", "--help"], { cmd: RUN });
    expect(own.stdout).toStartWith("gw run — start a coding agent");
    expect(own.call).toBeNull();
  });

  test("gemini: the same filter gives the Gemini route; its -y is --yolo", async () => {
    const r = await box.run(["gemini", "-y", "-c", toml, "fast", "-p", "hi"], { cmd: RUN, env: { GOOGLE_API_KEY: "stale", GOOGLE_GENAI_USE_VERTEXAI: "true" } });
    expect(r.stderr).toContain("gw run gemini: route fast-gemini (gemini-3-flash · 1M context)");
    expect(r.call!.argv).toEqual(["--yolo", "-p", "hi"]);
    expect(r.call!.env).toMatchObject({
      GEMINI_CLI_HOME: join(box.home, ".cache/cld/gemini"),
      GOOGLE_GEMINI_BASE_URL: `http://127.0.0.1:${gateway.port}`,
      GEMINI_API_KEY: "sk-run-key",
      GEMINI_MODEL: "fast-gemini",
      GOOGLE_API_KEY: "",
      GOOGLE_GENAI_USE_VERTEXAI: "",
    });
    expect(r.call!.env.GEMINI_CLI_CUSTOM_HEADERS).toMatch(/^x-session-id: [0-9a-f-]{36}$/);
  });

  test("a route of another family by exact name: offered too (CLIProxyAPI translates)", async () => {
    const r = await box.run(["gemini", "-c", toml, "opus4.6"], { cmd: RUN });
    expect(r.code).toBe(0);
    expect(r.call!.env.GEMINI_MODEL).toBe("opus4.6");
  });

  test("a word that names no route is the agent's, in its place; the route is then asked for (here: no terminal)", async () => {
    const r = await box.run(["codex", "-c", toml, "explain", "the tests"], { cmd: RUN });
    expect(r.stderr.split("\n")[1]).toBe('gw run codex: no route matches "explain", so it goes to codex; choose the route');
    // What to type instead, in gw run's words (it said "cld cp FILTER", which starts Claude Code).
    expect(r.stderr).toEndWith('gw: no terminal to ask "codex route" on\n  name the route: gw run codex FILTER … (routes: fast-gpt, gpt5, fast-gemini, opus4.6)\n');
    expect(r.code).toBe(1);
    expect(r.call).toBeNull();
  });

  test("the agent's own command (codex e, review; opencode pr) is no FILTER by part of a route's name: it goes to the agent", async () => {
    const both = new CldSandbox({ noClaude: true, agents: ["codex", "opencode"] });
    const route = (model: string) => `[{ instance = "a", provider = "antigravity", model = "${model}" }]`;
    const extra = both.writeConfig("extra.toml", `${config(gateway.port!)}"g3p-preview" = ${route("gemini-3-pro")}\n`);
    for (const [agent, word, ...args] of [["codex", "e", "--skip-git-repo-check", "hi"], ["codex", "review", "--uncommitted"], ["opencode", "pr", "12"]] as const) {
      const r = await both.run([agent, "-c", extra, word, ...args], { cmd: RUN });
      expect(r.stderr.split("\n")[1]).toBe(`gw run ${agent}: no route is named "${word}" (${agent}'s own command), so it goes to ${agent}; choose the route`);
      expect(r.code).toBe(1); // no terminal for the menu
      expect(r.call).toBeNull();
    }
    // A route of exactly that name is still FILTER.
    const named = both.writeConfig("named.toml", `${config(gateway.port!)}"pr" = ${route("gemini-3-pro")}\n`);
    const r = await both.run(["opencode", "-c", named, "pr", "run", "hi"], { cmd: RUN });
    expect(r.stderr).toContain("gw run opencode: route pr (gemini-3-pro");
    expect(r.call!.argv).toEqual(["run", "hi"]);
  });

  test("with a script's hundreds of routes the refusal names the first twelve and how many more, on one line", async () => {
    const many = Array.from({ length: 300 }, (_, i) => `"gpt-${i}" = [{ instance = "a", provider = "antigravity", model = "gpt-5" }]`).join("\n");
    const big = box.writeConfig("many.toml", `${config(gateway.port!)}${many}\n`);
    const r = await box.run(["codex", "-c", big], { cmd: RUN });
    // 304 routes: the GPT family first (codex), then the rest.
    const names = ["fast-gpt", "gpt5", ...Array.from({ length: 10 }, (_, i) => `gpt-${i}`)].join(", ");
    expect(r.stderr).toEndWith(`  name the route: gw run codex FILTER … (routes: ${names} and 292 more)\n`);
    expect(r.code).toBe(1);
  });
});

describe("gw run claude is cld cp", () => {
  const box = new CldSandbox({ agents: [] });
  const toml = box.writeConfig("gw.toml", config(gateway.port!));

  test("the same environment, arguments, memory and launch line (but for who speaks)", async () => {
    const viaCld = await box.run(["cp", "-c", toml, "opus", "-y", "-p", "hi"]);
    const cldMemory = box.memory("cp");
    for (const n of Object.keys(cldMemory)) rmSync(join(box.home, ".cache/cld/cp", `last_${n}`)); // both start from nothing remembered
    const viaRun = await box.run(["claude", "-c", toml, "opus", "-y", "-p", "hi"], { cmd: RUN });
    expect(viaRun.code).toBe(0);
    expect(viaRun.call!.argv).toEqual(["--dangerously-skip-permissions", "-p", "hi"]);
    expect(viaRun.call!.argv).toEqual(viaCld.call!.argv);
    expect(viaRun.call!.env).toEqual(viaCld.call!.env);
    expect(viaRun.call!.env).toMatchObject({ ANTHROPIC_MODEL: "opus4.6", ANTHROPIC_AUTH_TOKEN: "sk-run-key", CLAUDE_CONFIG_DIR: join(box.home, ".cache/cld/cp") });
    expect(box.memory("cp")).toEqual(cldMemory);
    expect(viaCld.stderr).toStartWith(`cld: config gw.toml (-c) → http://127.0.0.1:${gateway.port}\ncld: opus4.6 (`);
    expect(viaRun.stderr).toBe(viaCld.stderr.replace(/^cld: /gm, "gw run claude: "));
  });
});

describe("gw run chooses its config by cld's rule (one code path: cld/source.ts)", () => {
  const box = new CldSandbox({ noClaude: true, agents: ["codex"] });
  const SECRET = "sk-user-own-secret-0123456789abcdef";
  /** A checkout with its own providers.toml, as a cloned repository brings it. */
  const checkout = (toml: string) => {
    const dir = join(box.dir, `checkout-${Math.random().toString(36).slice(2, 8)}`);
    mkdirSync(dir);
    writeFileSync(join(dir, "providers.toml"), toml);
    return dir;
  };
  const confirm = async (dir: string) => {
    const file = join(dir, "providers.toml");
    await rememberConfirmed(join(box.home, ".cache/cld"), file, await fingerprint(file));
  };

  test("a checkout's providers.toml is not used unasked; once confirmed (for cld or gw run: one list) it is, and said so", async () => {
    const dir = checkout(config(gateway.port!));
    const r = await box.run(["codex", "gpt5", "exec", "hi"], { cmd: RUN, cwd: dir });
    expect(r.stderr).toBe("gw: providers.toml is not confirmed for gw run codex, and there is no terminal to ask\n  name it if you trust it: gw run codex -c providers.toml …  (or run gw run codex once in a terminal to confirm it)\n");
    expect(r.code).toBe(1);
    expect(r.call).toBeNull();

    await confirm(dir);
    const ok = await box.run(["codex", "gpt5", "exec", "hi"], { cmd: RUN, cwd: dir });
    const url = `http://127.0.0.1:${gateway.port}`;
    expect(ok.stderr).toBe(`gw run codex: config providers.toml (./providers.toml, confirmed before) → ${url}\ngw run codex: route gpt5 (gpt-5 · 400k context) → ${url}\n`);
    expect(ok.call!.env).toMatchObject({ GW_API_KEY: "sk-run-key" });
  });

  test("a confirmed checkout file may not send a key from the user's environment to another host", async () => {
    const dir = checkout(config(closedPort()).replace('host = "127.0.0.1"', 'host = "192.0.2.7"').replace('"sk-run-key"', '"${SECRET}"'));
    await confirm(dir);
    const r = await box.run(["codex", "gpt5"], { cmd: RUN, cwd: dir, env: { SECRET } });
    expect(r.stderr).toStartWith("gw: providers.toml would send a key from your environment to http://192.0.2.7:");
    expect(r.stderr).toEndWith("\n  name the file if you trust it: gw run codex -c providers.toml …\n");
    expect(r.stderr).not.toContain(SECRET);
    expect(r.code).toBe(1);
    expect(r.call).toBeNull();
  });
});

describe("gw run refusals, each one line", () => {
  const box = new CldSandbox({ noClaude: true, agents: ["codex"] });

  test("no agent named: the agents and the help", async () => {
    const r = await box.run([], { cmd: RUN });
    expect(r.stderr).toBe("gw: name the agent to run: gw run claude|codex|gemini|opencode|qwen …\n  gw run --help\n");
    expect(r.code).toBe(1);
  });

  test("a misspelt agent is named, with the one meant; nothing asked or launched", async () => {
    const r = await box.run(["codx", "fix the tests"], { cmd: RUN });
    expect(r.stderr).toBe('gw: "codx" is no agent gw runs — did you mean "codex"?\n  gw run claude|codex|gemini|opencode|qwen … (gw run --help)\n');
    expect(r.code).toBe(1);
    expect(r.call).toBeNull();
  });

  test("an agent not installed: how to install it, exit 127, before any question", async () => {
    const r = await box.run(["gemini", "g3f"], { cmd: RUN });
    expect(r.stderr).toBe("gw: gemini (Gemini CLI) is not on PATH; install it: npm install -g @google/gemini-cli\n");
    expect(r.code).toBe(127);
  });

  test("the gateway down and no terminal to ask: the command that starts it, nothing launched", async () => {
    const toml = box.writeConfig("down.toml", config(closedPort()));
    const r = await box.run(["codex", "-c", toml, "gpt5"], { cmd: RUN });
    expect(r.stderr).toContain(`is not answering; start it with: gw up -d -c ${toml}`);
    expect(r.stderr).toContain("no terminal to ask, so not starting codex");
    expect(r.code).toBe(1);
    expect(r.call).toBeNull();
  });

  test("--help lists every agent of the registry", async () => {
    const r = await box.run(["--help"], { cmd: RUN });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("usage: gw run AGENT [FILTER] [-y]");
    expect(r.stdout).toMatch(/^ {2}codex +OpenAI Codex CLI/m);
    expect(r.stdout).toMatch(/^ {2}gemini +Google Gemini CLI/m);
  });
});
