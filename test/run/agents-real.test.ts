// The real Codex CLI, Gemini CLI, opencode and Qwen Code from npm, in their non-interactive modes
// (codex exec, gemini -p, opencode run, qwen -p), started by `gw run` with a fresh HOME in a network namespace that has only
// loopback: each answers through gw (gw mock instances behind it) on the route it was given,
// the request log shows that route and the agent, and the user's own settings stay as they were.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { killAll, type Sandbox } from "../helpers/supervisor.ts";
import { agentSandbox, codexDaemonDirCleanup, offlineRun, requestLog, versionOf } from "./offline.ts";

setDefaultTimeout(180_000); // real CLIs (a 300 MB Codex binary, Gemini CLI on node) on a shared 2-core machine
const KEY = "sk-gw-agents-test-0123456789";
const CODEX = versionOf("@openai/codex");
const GEMINI = versionOf("@google/gemini-cli");
const OPENCODE = versionOf("opencode-ai");
const QWEN = versionOf("@qwen-code/qwen-code");

let sb: Sandbox;
let home: string;
let work: string;
const removeCodexDaemonDir = codexDaemonDirCleanup();

beforeAll(async () => {
  ({ sb, home, work } = await agentSandbox(KEY, { "opus4.6": "claude-opus-4-6-thinking", gpt5: "gpt-5", g3f: "gemini-3-flash" }));
});
afterAll(async () => {
  await killAll(sb);
  removeCodexDaemonDir();
});

/** The config line (which file, chosen how), then the launch line (which route). */
const lines = (agent: string, origin: RegExp, route: string, model: string, window: string) => {
  const url = `http://127.0.0.1:${sb.mainPort}`;
  const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^gw run ${agent}: config ${esc(sb.file)} \\(${origin.source}\\) → ${esc(url)}\ngw run ${agent}: ${esc(`route ${route} (${model} · ${window} context) → ${url}`)}$`, "m");
};

describe(`codex ${CODEX}: gw run codex gpt5 exec`, () => {
  test("answers through gw on route gpt5, with the route's metadata and window, the user's ~/.codex untouched", async () => {
    const own = join(home, ".codex/config.toml");
    mkdirSync(join(home, ".codex"), { recursive: true });
    const ownText = `model = "o3"\n\n[projects."${work}"]\ntrust_level = "trusted"\n`;
    writeFileSync(own, ownText);

    const r = await offlineRun(sb, home, work, ["codex", "-c", sb.file, "gpt5", "exec", "--skip-git-repo-check", "Say hello"]);
    expect(r.stderr).toMatch(lines("codex", /-c/, "gpt5", "gpt-5", "400k"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Mock answer from instance a, model gpt-5.");
    expect(r.stderr).not.toContain("Model metadata for");

    const records = requestLog(sb).filter((x) => x.agent?.startsWith("codex_exec/"));
    expect(records.length).toBeGreaterThan(0);
    for (const x of records) {
      expect(x).toMatchObject({ agent: `codex_exec/${CODEX}`, request: { path: "/v1/responses", model: "gpt5" }, routing: { route: "gpt5" }, response: { status: 200 } });
      // Plain Responses: the tools in `tools`, where CLIProxyAPI's translators find them.
      expect(x.request.tools).toBeGreaterThan(0);
    }

    expect(readFileSync(own, "utf8")).toBe(ownText);
    const managed = join(home, ".cache/cld/codex");
    const config = Bun.TOML.parse(readFileSync(join(managed, "config.toml"), "utf8")) as Record<string, any>;
    expect(config).toMatchObject({ model: "gpt5", model_provider: "gw", projects: { [work]: { trust_level: "trusted" } } });
    expect(config.model_providers.gw).toEqual({ name: "gw", base_url: `http://127.0.0.1:${sb.mainPort}/v1`, env_key: "GW_API_KEY", wire_api: "responses" });
    expect(JSON.stringify(config)).not.toContain(KEY); // the key travels in the environment only
    const catalog = JSON.parse(readFileSync(config.model_catalog_json, "utf8"));
    const slugs = catalog.models.map((m: { slug: string }) => m.slug);
    expect(slugs.slice(0, 1)).toEqual(["gpt5"]); // the GPT route first; the others follow, translated
    expect(slugs.sort()).toEqual(["g3f", "gpt5", "m", "opus4.6"]);
    expect(catalog.models.find((m: { slug: string }) => m.slug === "gpt5")).toMatchObject({ display_name: "gpt5", context_window: 400_000, max_context_window: 400_000 });
    // Each route's window as the gateway serves it (Claude without the 1M beta: 200k).
    expect(catalog.models.find((m: { slug: string }) => m.slug === "opus4.6")).toMatchObject({ context_window: 200_000 });
    expect(readFileSync(join(managed, "last_route"), "utf8").trim()).toBe("gpt5");
  });
});

describe(`gemini ${GEMINI}: gw run gemini g3f -p`, () => {
  test("answers through gw on route g3f in a folder the user trusted; their ~/.gemini untouched", async () => {
    const own = join(home, ".gemini");
    mkdirSync(own, { recursive: true });
    const trust = `{"${work}": "TRUST_FOLDER"}\n`;
    const settings = `{"ui": {"theme": "ANSI"}}\n`;
    writeFileSync(join(own, "trustedFolders.json"), trust);
    writeFileSync(join(own, "settings.json"), settings);

    // No -c: the config, key and address are those of the gw that is running (cld's rule).
    const r = await offlineRun(sb, home, work, ["gemini", "g3f", "-p", "Say hello"]);
    expect(r.stderr).toMatch(lines("gemini", /the gw running as pid \d+/, "g3f", "gemini-3-flash", "1M"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Mock answer from instance a, model gemini-3-flash.");

    const records = requestLog(sb).filter((x) => x.agent?.startsWith("GeminiCLI"));
    expect(records.length).toBeGreaterThan(0);
    // The launch's session id (x-session-id) groups its requests: sticky routing has a key.
    expect(records[0]!.request.user).toMatch(/^[0-9a-f]{12}$/);
    expect(new Set(records.map((x) => x.request.user)).size).toBe(1);
    for (const x of records) {
      expect(x.agent).toMatch(new RegExp(`^GeminiCLI[\\w-]*/${GEMINI.replaceAll(".", "\\.")}$`));
      expect(x).toMatchObject({ request: { path: "/v1beta/models/g3f:streamGenerateContent?alt=sse", model: "g3f" }, routing: { route: "g3f" }, response: { status: 200 } });
    }

    expect(readFileSync(join(own, "trustedFolders.json"), "utf8")).toBe(trust);
    expect(readFileSync(join(own, "settings.json"), "utf8")).toBe(settings);
    const managed = JSON.parse(readFileSync(join(home, ".cache/cld/gemini/.gemini/settings.json"), "utf8"));
    expect(managed).toMatchObject({ security: { auth: { selectedType: "gemini-api-key" } }, model: { name: "g3f" } });
    expect(JSON.stringify(managed)).not.toContain(KEY);
  });

  test("-m names another route: the chat goes there (the route chosen is only the default)", async () => {
    mkdirSync(join(home, ".gemini"), { recursive: true });
    writeFileSync(join(home, ".gemini/trustedFolders.json"), `{"${work}": "TRUST_FOLDER"}\n`);
    const before = requestLog(sb).length;
    const r = await offlineRun(sb, home, work, ["gemini", "-c", sb.file, "g3f", "-m", "opus4.6", "-p", "Say hello"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Mock answer from instance a, model claude-opus-4-6-thinking.");
    const chat = requestLog(sb).slice(before).filter((x) => x.agent?.startsWith("GeminiCLI") && x.routing.route === "opus4.6");
    expect(chat.length).toBeGreaterThan(0);
    for (const x of chat) expect(x.request.path).toBe("/v1beta/models/opus4.6:streamGenerateContent?alt=sse");
  });

  test("in a folder nobody trusted, Gemini CLI's own trust question stands: gw trusts nothing by itself", async () => {
    const elsewhere = join(sb.dir, "cloned-repo");
    mkdirSync(elsewhere, { recursive: true });
    const before = requestLog(sb).length;
    const r = await offlineRun(sb, home, elsewhere, ["gemini", "-c", sb.file, "g3f", "-p", "Say hello"]);
    expect(r.stderr).toContain("not running in a trusted directory");
    expect(r.code).not.toBe(0);
    expect(requestLog(sb).length).toBe(before);
    expect(existsSync(join(home, ".cache/cld/gemini/.gemini/trustedFolders.json"))).toBe(true);
    expect(readFileSync(join(home, ".cache/cld/gemini/.gemini/trustedFolders.json"), "utf8")).not.toContain(elsewhere);
  });
});

describe(`opencode ${OPENCODE}: gw run opencode opus run`, () => {
  test("answers through gw on route opus4.6 with the route's window, one session sticky; the user's own config untouched, nothing on disk", async () => {
    const own = join(home, ".config/opencode/opencode.json");
    mkdirSync(join(home, ".config/opencode"), { recursive: true });
    // With its $schema: opencode adds one to a config file that has none (its own doing, gw or not).
    const ownText = `{"$schema": "https://opencode.ai/config.json", "theme": "system", "model": "anthropic/claude-sonnet-4-5"}\n`;
    writeFileSync(own, ownText);

    const r = await offlineRun(sb, home, work, ["opencode", "-c", sb.file, "opus", "run", "Say hello"]);
    expect(r.stderr).toMatch(lines("opencode", /-c/, "opus4.6", "claude-opus-4-6-thinking", "200k"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Mock answer from instance a, model claude-opus-4-6-thinking.");

    const records = requestLog(sb).filter((x) => x.agent?.startsWith("opencode/"));
    expect(records.length).toBeGreaterThan(0);
    // opencode names its session in each request (the title's request and the answer's): one sticky key.
    expect(records[0]!.request.user).toMatch(/^[0-9a-f]{12}$/);
    expect(new Set(records.map((x) => x.request.user)).size).toBe(1);
    // The answer on the route; the title on the small route, cld's fast tier for it (no scenario here: the cheapest route).
    for (const x of records) {
      expect(x).toMatchObject({ agent: `opencode/${OPENCODE}`, request: { path: "/v1/messages" }, response: { status: 200 } });
      expect(x.routing.route).toBeOneOf(["opus4.6", "g3f"]);
    }
    expect(records.map((x) => x.routing.route)).toContain("opus4.6");

    expect(readFileSync(own, "utf8")).toBe(ownText);
    // gw's config went inline (OPENCODE_CONFIG_CONTENT): nothing of it on disk.
    expect(existsSync(join(home, ".cache/cld/opencode/opencode.json"))).toBe(false);
  });

  test("opencode resolves gw's inline config: the provider on the gateway with every route and its window, the key by name only", async () => {
    const r = await offlineRun(sb, home, work, ["opencode", "-c", sb.file, "opus", "debug", "config"]);
    expect(r.code).toBe(0);
    const resolved = JSON.parse(r.stdout.slice(r.stdout.indexOf("{")));
    expect(resolved).toMatchObject({ model: "gw/opus4.6", small_model: "gw/g3f", provider: { gw: { options: { baseURL: `http://127.0.0.1:${sb.mainPort}/v1` } } } });
    expect(Object.keys(resolved.provider.gw.models).sort()).toEqual(["g3f", "gpt5", "m", "opus4.6"]);
    expect(resolved.provider.gw.models["opus4.6"].limit).toEqual({ context: 200_000, output: 32_000 }); // the window the gateway serves
    expect(resolved.provider.gw.models.g3f.limit.context).toBe(1_000_000);
    expect(r.stdout).not.toContain(KEY);
  });
});

describe(`opencode ${OPENCODE}: the user's own OPENCODE_CONFIG`, () => {
  test("is merged under gw's config, as opencode alone applies it: its settings kept, gw's provider and model over it", async () => {
    const userConf = join(sb.dir, "userconf.json");
    writeFileSync(userConf, `{\n  // the user's own\n  "username": "tester-own-name",\n  "model": "anthropic/claude-sonnet-4-5",\n}\n`);
    const r = await offlineRun(sb, home, work, ["opencode", "-c", sb.file, "g3f", "debug", "config"], { OPENCODE_CONFIG: userConf });
    expect(r.code).toBe(0);
    const resolved = JSON.parse(r.stdout.slice(r.stdout.indexOf("{")));
    expect(resolved).toMatchObject({ username: "tester-own-name", model: "gw/g3f", provider: { gw: { options: { baseURL: `http://127.0.0.1:${sb.mainPort}/v1` } } } });
  });
});

describe(`qwen ${QWEN}: gw run qwen g3f -p`, () => {
  test("answers through gw on route g3f with every route's window, one session sticky; the user's own settings untouched, no key on disk", async () => {
    const own = join(home, ".qwen/settings.json");
    mkdirSync(join(home, ".qwen"), { recursive: true });
    // In the version Qwen Code migrates a settings file to (its own doing, gw or not).
    const ownText = `${JSON.stringify({ model: { name: "qwen3-coder-plus" }, security: { auth: { selectedType: "openai" } }, $version: 4 }, null, 2)}\n`;
    writeFileSync(own, ownText);

    const r = await offlineRun(sb, home, work, ["qwen", "-c", sb.file, "g3f", "-p", "Say hello"]);
    expect(r.stderr).toMatch(lines("qwen", /-c/, "g3f", "gemini-3-flash", "1M"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Mock answer from instance a, model gemini-3-flash.");

    // Qwen Code calls itself claude-cli (with its own version) when its Anthropic base URL is not Anthropic's.
    const records = requestLog(sb).filter((x) => x.agent === `claude-cli/${QWEN}`);
    expect(records.length).toBeGreaterThan(1);
    // Its session id in x-session-id on every request: one sticky key, set by the first.
    expect(records[0]!.request.user).toMatch(/^[0-9a-f]{12}$/);
    expect(new Set(records.map((x) => x.request.user)).size).toBe(1);
    expect(records[0]!.routing.sticky).toBe("set");
    for (const x of records) {
      expect(x).toMatchObject({ request: { path: "/v1/messages", model: "g3f" }, routing: { route: "g3f" }, response: { status: 200 } });
    }

    expect(readFileSync(own, "utf8")).toBe(ownText);
    const managed = JSON.parse(readFileSync(join(home, ".cache/cld/qwen/settings.json"), "utf8"));
    expect(managed).toMatchObject({ model: { name: "g3f" }, security: { auth: { selectedType: "anthropic" } }, outboundCorrelation: { allowDynamicHeaderValues: true } });
    const models = managed.modelProviders.anthropic as { id: string; baseUrl: string; envKey: string; generationConfig: { contextWindowSize: number } }[];
    expect(models.map((m) => m.id).sort()).toEqual(["g3f", "gpt5", "m", "opus4.6"]);
    for (const m of models) expect(m).toMatchObject({ baseUrl: `http://127.0.0.1:${sb.mainPort}`, envKey: "GW_API_KEY" });
    expect(models.find((m) => m.id === "g3f")!.generationConfig.contextWindowSize).toBe(1_000_000);
    expect(JSON.stringify(managed)).not.toContain(KEY);
  });

  test("a launch like the last one writes nothing: the version Qwen Code added stays, and the file private", async () => {
    const managed = join(home, ".cache/cld/qwen/settings.json");
    await offlineRun(sb, home, work, ["qwen", "-c", sb.file, "g3f", "-p", "Say hello"]);
    const first = statSync(managed);
    expect(JSON.parse(readFileSync(managed, "utf8")).$version).toBeNumber(); // Qwen Code's own doing
    const r = await offlineRun(sb, home, work, ["qwen", "-c", sb.file, "g3f", "-p", "Say hello"]);
    expect(r.code).toBe(0);
    const again = statSync(managed);
    expect([again.ino, again.mtimeMs]).toEqual([first.ino, first.mtimeMs]);
    expect(again.mode & 0o777).toBe(0o600);
  });
});
