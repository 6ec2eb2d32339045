// The mock reads instance YAML with Bun's parser (src/mock/config.ts); gw writes it with the yaml
// package. Whatever gw writes — every section, model names YAML would take for something else —
// and a config as a user writes one by hand must read as the yaml package reads it.
import { afterAll, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { parseConfig } from "../../src/config/index.ts";
import { instanceYaml } from "../../src/instances/index.ts";
import { instanceFromYaml, readInstanceFile } from "../../src/mock/config.ts";
import { EVERY_OLD_KEY } from "../config/fixtures.ts";
import { tempDir } from "../helpers/tmp.ts";

const dir = tempDir("gw-mock-yaml-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The mock's reading of `text` as instance `name`, and the yaml package's. */
function bothReadings(name: string, text: string) {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return { mock: readInstanceFile(file), yaml: instanceFromYaml(parse(text), name) };
}

const AWKWARD = ["yes", "on", "No", "null", "~", "1.5", "0x1F", "0o17", "1e3", ".inf", "2001-12-14", "12:30", "a: b", "#x", "- x", "'q'", '"dq"', "ünï→", "gpt-5(high)", "x # y", "[a]", "{a}", "@at", "`tick`", "*star", "&amp", "!bang", "%pct", "|bar", ">gt"];

test("every instance of a config with every section reads as the yaml package reads it", () => {
  const config = parseConfig(EVERY_OLD_KEY, join(dir, "providers.toml"), { RELAY_KEY: "sk-relay" }).config!;
  for (const inst of config.instances) {
    const { mock, yaml } = bothReadings(inst.name, instanceYaml(config, { ...inst, apiKey: "gw-k1" }));
    expect(mock).toEqual(yaml);
  }
});

test("model names YAML would take for another type, a key or a comment read as written", () => {
  const routes = AWKWARD.map((m, i) => `"r${i}" = [{ instance = "a", provider = "anthropic", model = ${JSON.stringify(m)} }, { instance = "a", provider = "openai", model = ${JSON.stringify(m)} }]`);
  const toml = `[global]\nmain_port = 8145\n[instances.a]\nport = 8146\nproviders = [{ type = "anthropic", api_keys = ["sk-a"], base_url = "https://relay.example.com" }, { type = "openai", api_keys = ["sk-o"], base_url = "https://api.example.com/v1" }]\n[routing]\n${routes.join("\n")}\n`;
  const result = parseConfig(toml, join(dir, "providers.toml"));
  expect(result.problems).toEqual([]);
  const config = result.config!;
  const { mock, yaml } = bothReadings("a", instanceYaml(config, { ...config.instances[0]!, apiKey: "gw-k1" }));
  expect(mock).toEqual(yaml);
  expect(mock.models.map((m) => m.id)).toEqual([...AWKWARD, ...AWKWARD]);
});

test("a CLIProxyAPI config written by hand: comments, anchors, flow style, quoted keys", () => {
  const text = `# a config.yaml as CLIProxyAPI's example has it
host: "127.0.0.1"
port: 8317 # the default
auth-dir: ~/.cli-proxy-api
api-keys: [ "k1", 'k2' ]
streaming:
  keepalive-seconds: 15
nonstream-keepalive-interval: 2
passthrough-headers: true
claude-api-key:
  - api-key: &key "sk-shared"
    models: &models
      - { name: claude-opus-4-6, alias: opus }
      - name: "claude-sonnet-4-6"
  - api-key: *key
    base-url: https://relay.example.com
    models: *models
"openai-compatibility":
  - name: OpenRouter
    base-url: https://openrouter.ai/api/v1
    models:
      - name: >-
          moonshotai/kimi-k2
        alias: kimi
`;
  const { mock, yaml } = bothReadings("hand", text);
  expect(mock).toEqual(yaml);
  expect(mock.models.map((m) => m.id)).toEqual(["opus", "claude-sonnet-4-6", "opus", "claude-sonnet-4-6", "kimi"]);
});

test("a broken file is named, with the parser's first line", () => {
  const file = join(dir, "broken.yaml");
  writeFileSync(file, "port: [8317\n");
  expect(() => readInstanceFile(file)).toThrow(new RegExp(`^${file.replaceAll(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: invalid YAML: .+`));
});

test("a file of several documents reads its first, as CLIProxyAPI (Go yaml.v3 Unmarshal) does — not as no keys and no port", () => {
  const first = "port: 8317\napi-keys: [k1]\nclaude-api-key:\n  - api-key: sk-a\n    models: [{ name: claude-opus-4-6 }]\n";
  const expected = instanceFromYaml(parse(first), "docs");
  for (const text of [`${first}---\n`, `---\n${first}---\nport: 1\n`, `# head\n${first}...\n---\nport: 1\n`]) {
    const file = join(dir, "docs.yaml");
    writeFileSync(file, text);
    expect(readInstanceFile(file)).toEqual(expected);
  }
});

test("a document that is not a mapping is named, not read as an empty config", () => {
  const file = join(dir, "list.yaml");
  for (const text of ["- port: 8317\n", "just text\n"]) {
    writeFileSync(file, text);
    expect(() => readInstanceFile(file)).toThrow(`${file}: not a mapping of settings`);
  }
  writeFileSync(file, "# nothing set yet\n");
  expect(readInstanceFile(file).apiKeys).toEqual([]);
});
