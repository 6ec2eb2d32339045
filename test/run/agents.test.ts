// The agent modules' pure parts: which routes come first, and what each agent's config says.
import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { catalogEntry, codexConfig, offersNoDaemon } from "../../src/run/agents/codex.ts";
import { geminiSettings, sessionHeaders } from "../../src/run/agents/gemini.ts";
import { AGENTS } from "../../src/run/agents/index.ts";
import { autoAfterRun, opencodeConfig, projectFiles, providerLists } from "../../src/run/agents/opencode.ts";
import { qwen, qwenSettings, systemSettingsPath } from "../../src/run/agents/qwen.ts";
import { type OfferedRoute, offeredRoutes, windowsOf } from "../../src/run/routes.ts";
import { loadConfig } from "../../src/config/index.ts";
import { tempFiles } from "../helpers/tmp.ts";

async function loadFixture(toml: string) {
  const { config, problems } = await loadConfig(`${tempFiles({ "providers.toml": toml })}/providers.toml`, { env: {} });
  if (!config) throw new Error(problems.map((p) => p.message).join("; "));
  return config;
}

const route = (name: string, window: number, models: string[] = [name]): OfferedRoute => ({ name, window, models, native: true });
const gateway = { baseUrl: "http://127.0.0.1:8145", apiKey: "sk-secret-key" };

describe("offeredRoutes", () => {
  test("native routes first, each group in file order; mixed routes are not native", async () => {
    const config = await loadFixture(`
[global]
main_port = 8145
[instances.a]
port = 8146
providers = [{ type = "antigravity" }, { type = "codex" }]
[routing]
"g3f" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }]
"mixed" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }, { instance = "a", provider = "codex", model = "gpt-5" }]
"gpt5" = [{ instance = "a", provider = "codex", model = "gpt-5" }]
"relay" = [{ instance = "a", provider = "codex", model = "some-model" }]
`);
    const all = [...config.routes.keys()];
    const windows = await windowsOf(all, config, new Map([["relay", 123]]));
    const names = (wanted: Parameters<typeof offeredRoutes>[2]) => offeredRoutes(config, all, wanted, windows).map((r) => `${r.name}${r.native ? "" : "*"}`);
    expect(names(["gpt"])).toEqual(["gpt5", "relay", "g3f*", "mixed*"]); // relay: the codex provider's family
    expect(names(["gemini"])).toEqual(["g3f", "mixed*", "gpt5*", "relay*"]);
    expect(names("any")).toEqual(["g3f", "mixed", "gpt5", "relay"]);
    const [relay, mixed] = offeredRoutes(config, ["mixed", "relay"], ["gpt"], windows); // relay is native
    expect(mixed).toMatchObject({ models: ["gemini-3-flash", "gpt-5"], window: 400_000 }); // the smaller window
    expect(relay!.window).toBe(123); // as the running gw lists it
  });

  test("built-in routes (no config): names only, the default window, nothing native but for any", async () => {
    expect(offeredRoutes(null, ["g3f"], ["gemini"], await windowsOf(["g3f"], null, undefined))).toEqual([{ name: "g3f", native: false, window: 200_000, models: [] }]);
  });
});

describe("codex config", () => {
  const l = { gateway, route: route("gpt5", 400_000) };

  test("gw's provider and model over what Codex wrote; the user's trusted folders carried over, its own kept", () => {
    const current = { model: "old", approval_policy: "on-request", projects: { "/mine": { trust_level: "untrusted" } }, model_providers: { other: { name: "x" } } };
    const user = { model: "o3", projects: { "/mine": { trust_level: "trusted" }, "/theirs": { trust_level: "trusted" } }, model_providers: { evil: { base_url: "http://elsewhere" } } };
    const c = codexConfig(current, user, l, "/home/u/.cache/cld/codex/gw-models.json");
    expect(c).toEqual({
      model: "gpt5",
      approval_policy: "on-request",
      model_provider: "gw",
      model_providers: { other: { name: "x" }, gw: { name: "gw", base_url: "http://127.0.0.1:8145/v1", env_key: "GW_API_KEY", wire_api: "responses" } },
      projects: { "/mine": { trust_level: "untrusted" }, "/theirs": { trust_level: "trusted" } },
      model_catalog_json: "/home/u/.cache/cld/codex/gw-models.json",
    });
    expect(JSON.stringify(c)).not.toContain("sk-secret-key");
  });

  test("without a catalogue of the installed Codex: the window as model_context_window", () => {
    const c = codexConfig({ model_catalog_json: "/stale.json" }, {}, l, undefined);
    expect(c.model_context_window).toBe(400_000);
    expect(c.model_catalog_json).toBeUndefined();
  });
});

describe("codex's shared background server", () => {
  test("the installed Codex (npm @openai/codex) offers --no-daemon, and gw sees it in its help; an older Codex does not", () => {
    const help = Bun.spawnSync([join(import.meta.dir, "../../node_modules/.bin/codex"), "--help"], { env: { PATH: process.env.PATH ?? "", HOME: tempFiles({}) } });
    expect(help.exitCode).toBe(0);
    expect(offersNoDaemon(help.stdout.toString())).toBe(true);
    expect(offersNoDaemon("Options:\n  -c, --config <key=value>\n  -h, --help\n")).toBe(false);
    expect(offersNoDaemon("  --no-daemonic  not it\n")).toBe(false);
  });
});

describe("codex catalogue entries", () => {
  const lite = (slug: string, priority: number) => ({ slug, priority, visibility: "list", use_responses_lite: true, tool_mode: "code_mode_only", base_instructions: `lite ${slug}` });
  const plain = (slug: string, priority: number, visibility = "list") => ({ slug, priority, visibility, use_responses_lite: false, base_instructions: `plain ${slug}` });
  const bundled = [lite("gpt-7", 1), plain("gpt-5.5", 13), plain("gpt-5-hidden", 2, "hide"), lite("gpt-6", 3), plain("gpt-5", 20)];

  test("the route's own upstream model when Codex has it in plain Responses; named and sized as the route", () => {
    expect(catalogEntry(route("fast", 123_000, ["gpt-5"]), 0, bundled)).toMatchObject({
      slug: "fast", display_name: "fast", description: "gw route → gpt-5", base_instructions: "plain gpt-5",
      context_window: 123_000, max_context_window: 123_000, priority: 1, visibility: "list", upgrade: null, service_tiers: [],
    });
  });

  test("else Codex's first listed plain model: a lite one (tools as additional_tools input) would lose its tools through a gateway", () => {
    expect(catalogEntry(route("opus", 200_000, ["claude-opus-4-6"]), 2, bundled)).toMatchObject({ slug: "opus", base_instructions: "plain gpt-5.5", priority: 3 });
    expect(catalogEntry(route("g7", 1, ["gpt-7"]), 0, bundled).base_instructions).toBe("plain gpt-5.5");
  });

  test("a Codex with only lite models: the first, turned plain", () => {
    expect(catalogEntry(route("r", 1), 0, [lite("gpt-7", 2), lite("gpt-6", 1)])).toMatchObject({ base_instructions: "lite gpt-6", use_responses_lite: false, tool_mode: null });
  });
});

describe("gemini settings", () => {
  test("auth type, the route for the chat and its helpers, every route its own (-m, /model), compression at half the route's window; Gemini CLI's own keys kept", () => {
    const routes = [route("opus", 200_000), route("g3f", 1_000_000)];
    const s = geminiSettings({ ui: { theme: "ANSI" }, security: { folderTrust: { enabled: true } }, model: { maxSessionTurns: 9 } }, { route: routes[0]!, routes });
    expect(s).toEqual({
      ui: { theme: "ANSI" },
      security: { folderTrust: { enabled: true }, auth: { selectedType: "gemini-api-key" } },
      model: { maxSessionTurns: 9, name: "opus", compressionThreshold: 0.095 },
      modelConfigs: {
        customOverrides: [
          { match: { model: "base" }, modelConfig: { model: "opus" } },
          { match: { model: "chat-compression-default" }, modelConfig: { model: "opus" } },
          { match: { model: "opus" }, modelConfig: { model: "opus" } },
          { match: { model: "g3f" }, modelConfig: { model: "g3f" } },
        ],
      },
    });
  });

  test("a window at least as large as Gemini CLI assumes: its own threshold (an old scaled one removed)", () => {
    const s = geminiSettings({ model: { compressionThreshold: 0.1 } }, { route: route("g3p", 2_000_000), routes: [] });
    expect(s.model).toEqual({ name: "g3p" });
  });
});

describe("opencode config", () => {
  test("a gw provider with every route and its window, the route as the model, its small route as the small model, the key by name only; the user's inline config kept", () => {
    const current = { theme: "system", model: "anthropic/claude-sonnet-4", small_model: "mine/x", provider: { other: { npm: "x" }, gw: { models: { gone: {} } } } };
    const routes = [route("opus4.6", 200_000, ["claude-opus-4-6-thinking"]), route("g3f", 1_048_576, ["gemini-3-flash"]), route("m", 200_000, [])];
    const c = opencodeConfig(current, { gateway, route: routes[1]!, routes, roles: { small: "m" } });
    expect(c).toEqual({
      $schema: "https://opencode.ai/config.json",
      theme: "system",
      model: "gw/g3f",
      small_model: "gw/m",
      provider: {
        other: { npm: "x" },
        gw: {
          name: "gw",
          npm: "@ai-sdk/anthropic",
          options: { baseURL: "http://127.0.0.1:8145/v1", apiKey: "{env:GW_API_KEY}" },
          models: {
            "opus4.6": { name: "opus4.6", limit: { context: 200_000, output: 32_000 } },
            g3f: { name: "g3f", limit: { context: 1_048_576, output: 32_000 } },
            m: { name: "m", limit: { context: 200_000, output: 32_000 } },
          },
        },
      },
    });
    expect(JSON.stringify(c)).not.toContain(gateway.apiKey);
  });

  test("gw joins the user's enabled_providers and leaves their disabled_providers; lists that never name it are left to the user's files", () => {
    const routes = [route("g3f", 1_048_576)];
    const l = { gateway, route: routes[0]!, routes };
    expect(opencodeConfig({}, l, { enabled: ["anthropic"], disabled: ["gw", "openai"] })).toMatchObject({ enabled_providers: ["anthropic", "gw"], disabled_providers: ["openai"] });
    const c = opencodeConfig({}, l, { disabled: ["openai"] });
    expect([c.enabled_providers, c.disabled_providers, c.small_model]).toEqual([undefined, undefined, "gw/g3f"]);
  });

  test("the user's provider lists as opencode reads them: global files in order, then OPENCODE_CONFIG, then the inline config", () => {
    const dir = tempFiles({ "own.json": '{"disabled_providers": ["c"]}' });
    mkdirSync(join(dir, "xdg/opencode"), { recursive: true });
    writeFileSync(join(dir, "xdg/opencode/config.json"), '{"enabled_providers": ["a"], "disabled_providers": ["gw"]}');
    writeFileSync(join(dir, "xdg/opencode/opencode.jsonc"), '{\n  // mine\n  "enabled_providers": ["b"],\n}');
    mkdirSync(join(dir, "repo/.git"), { recursive: true });
    const cwd = join(dir, "repo");
    expect(providerLists({ XDG_CONFIG_HOME: join(dir, "xdg") }, cwd)).toEqual({ enabled: ["b"], disabled: ["gw"] });
    expect(providerLists({ XDG_CONFIG_HOME: join(dir, "xdg"), OPENCODE_CONFIG: join(dir, "own.json"), OPENCODE_CONFIG_CONTENT: '{"enabled_providers": ["d"]}' }, cwd)).toEqual({ enabled: ["d"], disabled: ["c"] });
    // A project's own list comes after the user's files, before their inline config.
    writeFileSync(join(cwd, "opencode.json"), '{"enabled_providers": ["e"]}');
    expect(providerLists({ XDG_CONFIG_HOME: join(dir, "xdg") }, cwd)).toEqual({ enabled: ["e"], disabled: ["gw"] });
    expect(providerLists({ XDG_CONFIG_HOME: join(dir, "xdg"), OPENCODE_DISABLE_PROJECT_CONFIG: "1" }, cwd)).toEqual({ enabled: ["b"], disabled: ["gw"] });
  });

  test("a project's files as opencode finds them: from the folder up to the checkout's top, .jsonc before .json, outermost first, then the .opencode folders", () => {
    const dir = tempFiles({ "opencode.json": "{}" });
    for (const f of ["repo/opencode.json", "repo/opencode.jsonc", "repo/sub/opencode.json", "repo/sub/.opencode/opencode.json", "repo/.opencode/opencode.jsonc"]) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      writeFileSync(join(dir, f), "{}");
    }
    mkdirSync(join(dir, "repo/.git"));
    expect(projectFiles(join(dir, "repo/sub/deeper"))).toEqual(["repo/opencode.jsonc", "repo/opencode.json", "repo/sub/opencode.json", "repo/sub/.opencode/opencode.json", "repo/.opencode/opencode.jsonc"].map((f) => join(dir, f)));
  });
});

describe("qwen settings", () => {
  test("the anthropic auth type, every route as a model on the gateway with its window and the session header, the route as the model, the key by name only; what else the file holds is kept", () => {
    const current = { ui: { theme: "Dracula" }, model: { name: "qwen3-coder-plus", maxSessionTurns: 50 }, modelProviders: { openai: [{ id: "x", envKey: "X" }], anthropic: [{ id: "gone" }] }, security: { auth: { selectedType: "openai", useExternal: false }, folderTrust: { enabled: true } } };
    const routes = [route("opus4.6", 200_000, ["claude-opus-4-6-thinking"]), route("g3f", 1_048_576, ["gemini-3-flash"])];
    const s = qwenSettings(current, { gateway, route: routes[1]!, routes });
    const entry = (name: string, window: number) => ({ id: name, name, baseUrl: "http://127.0.0.1:8145", envKey: "GW_API_KEY", generationConfig: { contextWindowSize: window, customHeaders: { "x-session-id": "${session_id}" } } });
    expect(s).toEqual({
      ui: { theme: "Dracula" },
      model: { name: "g3f", maxSessionTurns: 50 },
      modelProviders: { openai: [{ id: "x", envKey: "X" }], anthropic: [entry("opus4.6", 200_000), entry("g3f", 1_048_576)] },
      security: { auth: { selectedType: "anthropic", useExternal: false }, folderTrust: { enabled: true } },
      outboundCorrelation: { allowDynamicHeaderValues: true },
    });
    expect(JSON.stringify(s)).not.toContain(gateway.apiKey);
  });
});

test("qwen: gw's settings file is made over the system settings Qwen Code would have read (comments and all), gw's keys winning", async () => {
  expect(systemSettingsPath({}, "linux")).toBe("/etc/qwen-code/settings.json");
  expect(systemSettingsPath({}, "darwin")).toBe("/Library/Application Support/QwenCode/settings.json");
  const dir = tempFiles({ "admin.json": '{\n  // set by IT\n  "telemetry": { "enabled": false },\n  "model": { "name": "qwen3-coder-plus", },\n}\n' });
  expect(systemSettingsPath({ QWEN_CODE_SYSTEM_SETTINGS_PATH: join(dir, "admin.json") }, "linux")).toBe(join(dir, "admin.json"));
  const routes = [route("opus4.6", 200_000)];
  const prepared = await qwen.prepare({ gateway, route: routes[0]!, routes, home: join(dir, "home"), env: { QWEN_CODE_SYSTEM_SETTINGS_PATH: join(dir, "admin.json") }, command: "qwen", say: () => {} });
  const file = join(dir, "home/settings.json");
  expect(prepared).toEqual({ env: { QWEN_CODE_SYSTEM_SETTINGS_PATH: file, GW_API_KEY: gateway.apiKey } });
  expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ telemetry: { enabled: false }, model: { name: "opus4.6" }, security: { auth: { selectedType: "anthropic" } } });
});

test("opencode's -y goes after its subcommand run, where it reads it; elsewhere it stays where it was written", () => {
  expect(autoAfterRun(["--auto", "run", "fix", "--auto"])).toEqual(["run", "--auto", "fix", "--auto"]);
  expect(autoAfterRun(["-m", "x", "--auto", "run", "hi"])).toEqual(["-m", "x", "run", "--auto", "hi"]);
  expect(autoAfterRun(["run", "--auto", "hi"])).toEqual(["run", "--auto", "hi"]);
  expect(autoAfterRun(["--auto", "--continue"])).toEqual(["--auto", "--continue"]); // its TUI
});

test("gemini's session header follows the user's own custom headers", () => {
  expect(sessionHeaders(undefined, "u-1")).toBe("x-session-id: u-1");
  expect(sessionHeaders(" x-team: a, x-b: c:d ", "u-1")).toBe("x-team: a, x-b: c:d, x-session-id: u-1");
});

test("every agent of the registry names its command, install line, yolo flag and a one-line summary", () => {
  for (const a of AGENTS) {
    expect(a.name).toMatch(/^[a-z][a-z0-9-]*$/);
    expect(a.install).toStartWith("npm install -g ");
    expect(a.yolo.length).toBeGreaterThan(0);
    expect(a.summary).not.toContain("\n");
  }
  expect(new Set(AGENTS.map((a) => a.name)).size).toBe(AGENTS.length);
});

describe("each agent's own commands (never a FILTER by part of a route's name)", () => {
  /** The commands and aliases a CLI's --help lists: Codex's clap table, or yargs' `NAME cmd` lines. */
  function listedCommands(help: string, command: string): string[] {
    const section = help.slice(help.indexOf("Commands:\n")).split("\n\n")[0]!;
    const names = section.split("\n").flatMap((line) => {
      const m = new RegExp(`^ {2}(?:${command} )?([a-z][\\w-]*)(?=\\s|$)`).exec(line);
      return m && m[1] !== command ? [m[1]!] : [];
    });
    const aliases = [...section.matchAll(/\[aliases: ([^\]]+)\]/g)].flatMap((m) => m[1]!.split(/,\s*/));
    return [...names, ...aliases].sort();
  }

  for (const agent of AGENTS.filter((a) => a.commands)) {
    test(`${agent.name}: as the installed ${agent.label}'s --help lists them`, () => {
      const bin = join(import.meta.dir, "../../node_modules/.bin");
      const path = [bin, dirname(Bun.which("node") ?? "/usr/bin/node"), "/usr/bin", "/bin"].join(":");
      const home = tempFiles({});
      const help = Bun.spawnSync([join(bin, agent.command), "--help"], { env: { PATH: path, HOME: home, TMPDIR: home, NO_COLOR: "1" }, timeout: 60_000 });
      const text = help.stdout.toString() + help.stderr.toString();
      expect(listedCommands(text, agent.command).length).toBeGreaterThan(3);
      expect([...agent.commands!].sort()).toEqual(listedCommands(text, agent.command));
    });
  }
});
