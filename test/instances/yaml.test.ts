import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { displayPath } from "../../src/cli/display-path.ts";
import { CliError } from "../../src/cli/errors.ts";
import { parseConfig } from "../../src/config/index.ts";
import { instanceYaml, keysFile, withInstanceKeys, writeInstanceFiles } from "../../src/instances/index.ts";
import { EVERY_OLD_KEY } from "../config/fixtures.ts";
import { tempDir } from "../helpers/tmp.ts";

const load = (dir = "/srv/gw") => parseConfig(EVERY_OLD_KEY, join(dir, "providers.toml"), { RELAY_KEY: "sk-relay" }).config!;

describe("instance YAML: the old generator's mapping", () => {
  const config = load();
  const [official, relay] = config.instances;

  test("OAuth instance: loopback, port, auth-dir, key, tuning; no provider sections", () => {
    const y = parse(instanceYaml(config, { ...official!, apiKey: "gw-k1" }));
    expect(y).toEqual({
      host: "127.0.0.1",
      port: 8146,
      "auth-dir": "/srv/gw/auths/official",
      "api-keys": ["gw-k1"],
      "proxy-url": "http://proxy.local:3128",
      "request-retry": 5,
      "max-retry-interval": 30,
      "passthrough-headers": true,
      routing: { strategy: "fill-first" },
      "disable-cooling": false,
      "nonstream-keepalive-interval": 10,
      streaming: { "keepalive-seconds": 7, "bootstrap-retries": 2 },
      "quota-exceeded": { "switch-project": true, "switch-preview-model": false },
    });
  });

  test("anthropic, minimax → claude-api-key; openai → openai-compatibility; gemini → vertex-api-key", () => {
    const y = parse(instanceYaml(config, relay!));
    expect(y["claude-api-key"]).toEqual([
      { "api-key": "sk-relay", "base-url": "https://relay.example.com", models: [{ name: "anthropic/claude-opus-4.6", alias: "anthropic/claude-opus-4.6" }] },
      { "api-key": "sk-second-key", "base-url": "https://relay.example.com", models: [{ name: "anthropic/claude-opus-4.6", alias: "anthropic/claude-opus-4.6" }] },
      { "api-key": "mm-key", "base-url": "https://mm.example.com/anthropic", models: [{ name: "MiniMax-M2", alias: "MiniMax-M2" }] },
    ]);
    expect(y["openai-compatibility"]).toEqual([
      {
        name: "relay-openai-1",
        "base-url": "https://or.example.com/api/v1",
        "api-key-entries": [{ "api-key": "sk-or-1" }],
        models: [
          { name: "google/gemini-3-pro-preview", alias: "google/gemini-3-pro-preview" },
          { name: "openai/gpt-5.1", alias: "openai/gpt-5.1" },
        ],
      },
    ]);
    expect(y["vertex-api-key"]).toEqual([{ "api-key": "g-key", "base-url": "https://gem.example.com", models: [{ name: "gemini-3-pro", alias: "gemini-3-pro" }] }]);
    expect(y["max-retry-interval"]).toBe(60);
  });

  test("passthrough-headers: true (what tells gw when a rate limit ends), unless the file sets passthrough_headers", () => {
    const passthrough = (global: string, a: string) => {
      const c = parseConfig(`[global]\nmain_port = 9100\n${global}\n[instances.a]\nport = 9101\nproviders = [{ type = "codex" }]\n${a}\n[instances.b]\nport = 9102\nproviders = [{ type = "codex" }]\n`, "/srv/gw/p.toml").config!;
      return c.instances.map((i) => parse(instanceYaml(c, i))["passthrough-headers"]);
    };
    expect(passthrough("", "")).toEqual([true, true]);
    expect(passthrough("passthrough_headers = false", "")).toEqual([false, false]);
    expect(passthrough("passthrough_headers = false", 'passthrough_headers = "yes"')).toEqual([true, false]);
    expect(passthrough("", "passthrough_headers = false")).toEqual([false, true]);
  });

  test("deterministic, no anchors even where objects repeat", () => {
    const a = instanceYaml(config, relay!);
    expect(instanceYaml(load(), load().instances[1]!)).toBe(a);
    expect(a).not.toMatch(/[&*]a\d/);
  });

  test("a reload renders what changed, and the same text for what did not (the text is reused)", () => {
    const reload = (edit: (s: string) => string) => parseConfig(edit(EVERY_OLD_KEY), "/srv/gw/providers.toml", { RELAY_KEY: "sk-relay" }).config!;
    const before = instanceYaml(config, relay!);
    const moved = reload((s) => s.replace("anthropic/claude-opus-4.6", "anthropic/claude-opus-4.7"));
    expect(parse(instanceYaml(moved, moved.instances[1]!))["claude-api-key"][0].models).toEqual([{ name: "anthropic/claude-opus-4.7", alias: "anthropic/claude-opus-4.7" }]);
    expect(instanceYaml(moved, moved.instances[0]!)).toBe(instanceYaml(config, official!));
    expect(instanceYaml(load(), load().instances[1]!)).toBe(before); // and back
    // What YAML tells apart and JSON would not: -0 from 0.
    expect(instanceYaml(config, { ...official!, requestRetry: 0 })).toContain("request-retry: 0\n");
    expect(instanceYaml(config, { ...official!, requestRetry: -0 })).toContain("request-retry: -0\n");
  });
});

describe("writing instance files", () => {
  test("keys are generated once, kept 0600, and land in the YAML", async () => {
    const dir = tempDir();
    const c1 = await withInstanceKeys(load(dir));
    const c2 = await withInstanceKeys(load(dir));
    expect(c1.instances[0]!.apiKey).toMatch(/^gw-[\w-]{32}$/);
    expect(c2.instances.map((i) => i.apiKey)).toEqual(c1.instances.map((i) => i.apiKey));
    expect(c1.instances[0]!.apiKey).not.toBe(c1.instances[1]!.apiKey);
    expect(statSync(keysFile(c1)).mode & 0o777).toBe(0o600);
    const written = await writeInstanceFiles(c1);
    expect(written.map((p) => p.slice(dir.length))).toEqual(["/instances/official.yaml", "/instances/relay.yaml"]);
    const y = parse(await Bun.file(join(dir, "instances/official.yaml")).text());
    expect(y["api-keys"]).toEqual([c1.instances[0]!.apiKey]);
    expect(statSync(join(dir, "auths/official")).isDirectory()).toBe(true);
    expect(await writeInstanceFiles(c2)).toEqual([]); // unchanged files are left alone
  });

  test("a run that fails on a later instance (its auth dir cannot be made) leaves every earlier file as it was", async () => {
    const dir = tempDir();
    const before = await withInstanceKeys(load(dir));
    await writeInstanceFiles(before);
    const official = join(dir, "instances/official.yaml");
    const old = readFileSync(official, "utf8");
    writeFileSync(join(dir, "blocker"), ""); // a file where the relay's auth dir would go
    const [o, r] = before.instances;
    const next = { ...before, instances: [{ ...o!, port: o!.port + 100 }, { ...r!, authDir: join(dir, "blocker", "relay") }] };
    expect(instanceYaml(next, next.instances[0]!)).not.toBe(old); // this run would change it
    // One line that names the instance, the cause and the fix — no stack (main.ts prints a CliError so).
    const err = await writeInstanceFiles(next).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).message).toBe(`cannot make the auth dir of instance 'relay': a file is in the way where a directory belongs (${displayPath(join(dir, "blocker", "relay"))})`);
    expect((err as CliError).hint).toBe("fix [instances.relay] auth_dir, or move what is in the way");
    expect(readFileSync(official, "utf8")).toBe(old);
  });

  test("a YAML that cannot be written leaves the others as they were, and no temp file behind", async () => {
    const dir = tempDir();
    const before = await withInstanceKeys(load(dir));
    await writeInstanceFiles(before);
    const official = join(dir, "instances/official.yaml");
    const old = readFileSync(official, "utf8");
    const relay = join(dir, "instances/relay.yaml");
    rmSync(relay);
    mkdirSync(relay); // a directory where the relay's YAML belongs: its write fails after official's was ready
    const [o, r] = before.instances;
    const next = { ...before, instances: [{ ...o!, port: o!.port + 100 }, { ...r!, port: r!.port + 100 }] };
    const err = await writeInstanceFiles(next).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).message).toBe(`cannot write ${displayPath(relay)}: a directory is in the way`);
    expect(readFileSync(official, "utf8")).toBe(old);
    expect(readdirSync(join(dir, "instances")).sort()).toEqual(["official.yaml", "relay.yaml"]);
  });

  test("url instances get no YAML", async () => {
    const dir = tempDir();
    const { config } = parseConfig(`[global]\nmain_port=9100\nhost="127.0.0.1"\n[instances.r]\nurl="http://127.0.0.1:9999"\nproviders=[{type="codex"}]\n`, join(dir, "p.toml"));
    expect(await writeInstanceFiles(await withInstanceKeys(config!))).toEqual([]);
  });
});
