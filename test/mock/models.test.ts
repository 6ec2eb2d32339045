// The instance YAML the mock reads (as gw writes it for CLIProxyAPI), the model registry it
// builds from the provider sections, and GET /v1/models in both of CLIProxyAPI's shapes.

import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { instanceFromYaml } from "../../src/mock/config.ts";
import { startMock } from "../helpers/mock.ts";
import { tempFiles } from "../helpers/tmp.ts";
import { until } from "../helpers/supervisor.ts";
import { writeFileAtomic } from "../../src/fs/atomic-write.ts";

const YAML = `host: 127.0.0.1
port: 0
auth-dir: ./auth/relay
api-keys:
  - "inst-key"
streaming:
  keepalive-seconds: 15
claude-api-key:
  - api-key: sk-1
    base-url: https://relay.example
    models:
      - { name: anthropic/claude-opus-4.6, alias: claude-opus-4-6 }
vertex-api-key:
  - api-key: v-1
    models:
      - { name: gemini-3-pro, alias: gemini-3-pro }
openai-compatibility:
  - name: Relay-OpenAI-0
    base-url: https://oa.example/v1
    api-key-entries: [{ api-key: sk-oa }]
    models:
      - { name: gpt-5 }
oauth-model-alias:
  antigravity:
    - { name: gemini-3-flash-preview, alias: gemini-3-flash }
`;
const dir = tempFiles({ "relay.yaml": YAML });
const mock = startMock({ config: join(dir, "relay.yaml") });
afterAll(() => mock.stop());

describe("instance YAML", () => {
  test("name comes from the file's base name; api-keys are enforced", async () => {
    expect(mock.name).toBe("relay");
    const denied = await fetch(`${mock.url}/v1/models`, { headers: { authorization: "Bearer other" } });
    expect(denied.status).toBe(401);
  });

  test("GET /v1/models, OpenAI shape: every alias with its provider", async () => {
    const client = new OpenAI({ apiKey: "inst-key", baseURL: `${mock.url}/v1`, maxRetries: 0 });
    const list = [];
    for await (const m of client.models.list()) list.push(m);
    expect(list.map((m) => [m.id, m.owned_by, m.object])).toEqual([
      ["claude-opus-4-6", "claude", "model"],
      ["gemini-3-pro", "vertex", "model"],
      ["gpt-5", "relay-openai-0", "model"],
      ["gemini-3-flash", "antigravity", "model"],
    ]);
    expect(typeof list[0]!.created).toBe("number");
  });

  test("GET /v1/models, Anthropic shape when anthropic-version is sent: sorted, non-claude ids cloaked", async () => {
    const client = new Anthropic({ apiKey: "inst-key", baseURL: mock.url, maxRetries: 0 });
    const page = await client.models.list();
    expect(page.data.map((m) => [m.display_name, m.id])).toEqual([
      ["claude-opus-4-6", "claude-opus-4-6"],
      ["gemini-3-flash", "claude-fable-5-dd-hsalf-3-inimeg"],
      ["gemini-3-pro", "claude-fable-5-dd-orp-3-inimeg"],
      ["gpt-5", "claude-fable-5-dd-5-tpg"],
    ]);
    const raw = await (await fetch(`${mock.url}/v1/models`, { headers: { "x-api-key": "inst-key", "anthropic-version": "2023-06-01" } })).json();
    expect(raw.has_more).toBe(false);
    expect(raw.first_id).toBe("claude-opus-4-6");
    expect(raw.last_id).toBe("claude-fable-5-dd-5-tpg");
  });

  test("a claude-cli user agent also gets the Anthropic shape", async () => {
    const res = await fetch(`${mock.url}/v1/models`, { headers: { "x-api-key": "inst-key", "user-agent": "claude-cli/2.1.197 (external, cli)" } });
    expect((await res.json()).data[0].type).toBe("model");
  });

  test("listed models answer (also under their cloaked id); others are model_not_found", async () => {
    const client = new Anthropic({ apiKey: "inst-key", baseURL: mock.url, maxRetries: 0 });
    const ask = (model: string) => client.messages.create({ model, max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
    expect((await ask("gemini-3-flash")).model).toBe("gemini-3-flash");
    expect((await ask("claude-fable-5-dd-5-tpg")).model).toBe("claude-fable-5-dd-5-tpg");
    expect((await ask("claude-opus-4-6(31999)")).model).toBe("claude-opus-4-6(31999)");
    // The upstream name behind an alias is not a registered id.
    const err = await ask("anthropic/claude-opus-4.6").catch((e) => e);
    expect(err.status).toBe(400);
    expect(err.error.error.message).toBe("unknown provider for model anthropic/claude-opus-4.6");
  });

  test("without listed models any model is accepted", async () => {
    const any = startMock({});
    try {
      const res = await fetch(`${any.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model: "whatever-1", messages: [] }) });
      expect((await res.json()).model).toBe("whatever-1");
      // …but no model, or a body that is not JSON, never resolves (handlers_routing.go: GetProviderName("") is empty).
      for (const body of [JSON.stringify({ messages: [] }), "not json"]) {
        const none = await fetch(`${any.url}/v1/chat/completions`, { method: "POST", body });
        expect(none.status).toBe(400);
        expect((await none.json()).error).toEqual({ message: "unknown provider for model ", type: "invalid_request_error", code: "model_not_found", param: "model" });
      }
    } finally {
      await any.stop();
    }
  });

  test("a rewritten YAML is taken up while running (models, api-keys), as CLIProxyAPI's watcher does; a broken one is not", async () => {
    const d = tempFiles({ "hot.yaml": `port: 0\napi-keys: ["old-key"]\nclaude-api-key:\n  - api-key: sk-1\n    models: [{ name: a, alias: claude-a }]\n` });
    const file = join(d, "hot.yaml");
    const hot = startMock({ config: file });
    try {
      const ask = (key: string, model: string) =>
        fetch(`${hot.url}/v1/messages`, { method: "POST", headers: { "x-api-key": key }, body: JSON.stringify({ model, max_tokens: 5, messages: [{ role: "user", content: "hi" }] }) }).then((r) => r.status);
      expect(await ask("old-key", "claude-b")).toBe(400);
      // gw writes instance YAML atomically: a new file renamed over the old one.
      await writeFileAtomic(file, `port: 0\napi-keys: ["new-key"]\nclaude-api-key:\n  - api-key: sk-1\n    models: [{ name: a, alias: claude-a }, { name: b, alias: claude-b }]\n`);
      await until(async () => (await ask("new-key", "claude-b")) === 200, 10_000, () => "claude-b with new-key");
      expect(await ask("old-key", "claude-a")).toBe(401);
      const said: string[] = [];
      const stderr = console.error;
      console.error = (m: unknown) => void said.push(String(m));
      try {
        await writeFileAtomic(file, "api-keys: [unclosed\n");
        await until(() => said.some((l) => l.startsWith("gw mock: config not reloaded, keeping the running one:")), 10_000, () => said.join("\n"));
      } finally {
        console.error = stderr;
      }
      expect(await ask("new-key", "claude-b")).toBe(200);
    } finally {
      await hot.stop();
    }
  });

  test("a config file that cannot be read is a clear error naming it", () => {
    expect(() => startMock({ config: join(dir, "missing.yaml") })).toThrow(`cannot read config ${join(dir, "missing.yaml")}: ENOENT`);
  });
});

test("keep-alive settings: streaming.keepalive-seconds and nonstream-keepalive-interval, in seconds", () => {
  const f = instanceFromYaml({ streaming: { "keepalive-seconds": 15 }, "nonstream-keepalive-interval": 2, port: 8146 }, "x");
  expect([f.keepaliveMs, f.nonstreamKeepaliveMs, f.port]).toEqual([15_000, 2000, 8146]);
  expect(instanceFromYaml(null, "y")).toEqual({
    name: "y", host: undefined, port: undefined, apiKeys: [], models: [],
    keepaliveMs: undefined, nonstreamKeepaliveMs: undefined, passthroughHeaders: false,
  });
  expect(instanceFromYaml({ "passthrough-headers": true }, "z").passthroughHeaders).toBe(true);
});
