// The Responses object a real `gw mock` sends depends on the executor family that serves the model,
// as CLIProxyAPI decides it from the same instance YAML (written here by gw's own instanceYaml) and
// auth-dir: Codex (the OAuth credential's built-in list) passes the backend's full echo through;
// Claude (claude-api-key), Gemini (vertex-api-key; Antigravity OAuth) and OpenAI-compatible
// (openai-compatibility) models get the translators' objects — bare opening events, the request's
// own fields echoed at the end only. /v1/responses/compact answers a compaction object or 501.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import { instanceYaml } from "../../src/instances/index.ts";
import { upstreamFor } from "../../src/mock/upstream.ts";
import { type SpawnedMock, spawnMock } from "../helpers/mock.ts";
import { freePorts } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tmp.ts";

const MODELS = {
  codex: "gpt-5.5", // Codex OAuth credential in auth-dir: no YAML section
  claude: "claude-sonnet-4-5", // claude-api-key
  gemini: "gemini-3-pro", // vertex-api-key
  antigravity: "claude-opus-4-6-thinking", // Antigravity OAuth credential: the Gemini translator, whatever the name
  openai: "qwen3-coder", // openai-compatibility
} as const;
type Served = keyof typeof MODELS;

let dir: string;
let mock: SpawnedMock;

beforeAll(async () => {
  dir = tempDir("gw-mockprov-");
  const [port] = await freePorts(1);
  const toml = `[global]
host = "127.0.0.1"
main_port = 1
[instances.x]
port = ${port}
auth_dir = "auth"
providers = [
  { type = "codex" }, { type = "antigravity" },
  { type = "anthropic", base_url = "https://relay.invalid", api_keys = ["sk-a"] },
  { type = "gemini", api_keys = ["g-1"] },
  { type = "openai", base_url = "https://oa.invalid/v1", api_keys = ["sk-o"] },
]
[routing]
"c" = [{ instance = "x", provider = "codex", model = "${MODELS.codex}" }]
"a" = [{ instance = "x", provider = "anthropic", model = "${MODELS.claude}" }]
"g" = [{ instance = "x", provider = "gemini", model = "${MODELS.gemini}" }]
"ag" = [{ instance = "x", provider = "antigravity", model = "${MODELS.antigravity}" }]
"o" = [{ instance = "x", provider = "openai", model = "${MODELS.openai}" }]
`;
  const { config, problems } = parseConfig(toml, join(dir, "providers.toml"));
  expect(problems.filter((p) => p.severity === "error")).toEqual([]);
  const inst = config!.instances.find((i) => i.name === "x")!;
  // What `gw login` leaves in the instance's auth-dir: one file per credential, its type inside.
  mkdirSync(join(dir, "auth"), { recursive: true });
  writeFileSync(join(dir, "auth", "codex-user@example.com-pro.json"), JSON.stringify({ type: "codex", email: "user@example.com" }));
  writeFileSync(join(dir, "auth", "antigravity-user@example.com.json"), JSON.stringify({ type: "antigravity", email: "user@example.com" }));
  writeFileSync(join(dir, "x.yaml"), instanceYaml(config!, { ...inst, apiKey: "k" }));
  mock = await spawnMock(["-config", join(dir, "x.yaml")]);
});
afterAll(() => mock?.stop());

const REQUEST = {
  input: "hi",
  instructions: "Be brief.",
  tools: [{ type: "function", name: "read_file", description: "Reads a file.", strict: false, parameters: { type: "object", properties: { path: { type: "string" } } } }],
  tool_choice: "auto",
  reasoning: { effort: "high" },
  prompt_cache_key: "s-1",
  temperature: 0.2,
  max_output_tokens: 100.7,
  store: false,
  metadata: { turn: "1" },
};
/** The fields of REQUEST a translator echoes, in its order (model among them). */
const ECHO = ["instructions", "max_output_tokens", "model", "prompt_cache_key", "reasoning", "store", "temperature", "tool_choice", "tools", "metadata"];
const HEAD = ["id", "object", "created_at", "status", "background", "error"];
const USAGE = ["input_tokens", "input_tokens_details", "output_tokens", "output_tokens_details", "total_tokens"];

type Obj = Record<string, any>;
const post = (path: string, body: object) =>
  fetch(`${mock.url}${path}`, { method: "POST", headers: { authorization: "Bearer k", "content-type": "application/json" }, body: JSON.stringify(body) });

/** The response objects of a streamed answer, by event type. */
async function streamed(model: string, extra: object = {}): Promise<Record<string, Obj>> {
  const res = await post("/v1/responses", { model, ...REQUEST, ...extra, stream: true });
  expect(res.status).toBe(200);
  const out: Record<string, Obj> = {};
  for (const frame of (await res.text()).split("\n\n")) {
    const m = /^event: (response\.(?:created|in_progress|completed))\ndata: (.*)$/.exec(frame);
    if (m) out[m[1]!] = JSON.parse(m[2]!).response;
  }
  expect(Object.keys(out)).toEqual(["response.created", "response.in_progress", "response.completed"]);
  return out;
}

/** Every event of a streamed answer, data as sent. */
async function streamedEvents(model: string): Promise<Obj[]> {
  const res = await post("/v1/responses", { model, ...REQUEST, stream: true });
  expect(res.status).toBe(200);
  const frames = (await res.text()).split("\n\n").filter((f) => f.trim());
  return frames.map((f) => {
    const m = /^event: (\S+)\ndata: (.*)$/.exec(f)!;
    const data = JSON.parse(m[2]!);
    expect(data.type).toBe(m[1]);
    return data;
  });
}

async function json(model: string): Promise<Obj> {
  const res = await post("/v1/responses", { model, ...REQUEST });
  expect(res.status).toBe(200);
  return res.json();
}

describe("Codex-served: the backend's object, the whole request echoed in every event and the JSON", () => {
  test("streamed and not", async () => {
    const s = await streamed(MODELS.codex);
    const keys = Object.keys(s["response.completed"]!);
    for (const r of Object.values(s)) {
      expect(Object.keys(r)).toEqual(keys);
      expect([r.instructions, r.tools, r.prompt_cache_key, r.store]).toEqual([REQUEST.instructions, REQUEST.tools, "s-1", false]);
      // The backend's own values where CLIProxyAPI takes the request's out or the backend merges.
      expect([r.temperature, r.max_output_tokens, r.reasoning.effort, r.reasoning.context]).toEqual([1, null, "high", "all_turns"]);
    }
    expect(s["response.created"]!.id).toStartWith("resp_");
    expect(Object.keys(await json(MODELS.codex))).toEqual(keys);
  });

  test("Codex-served events are the backend's: numbered from 0, no logprobs", async () => {
    const events = await streamedEvents(MODELS.codex);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const delta = events.find((e) => e.type === "response.output_text.delta")!;
    expect(Object.keys(delta)).toEqual(["type", "sequence_number", "item_id", "output_index", "content_index", "delta"]);
  });
});

describe("translated: bare openings, the request's own fields echoed in response.completed and the JSON", () => {
  const translated: [Served, string][] = [["claude", "msg_"], ["gemini", "resp_"], ["antigravity", "resp_"], ["openai", "chatcmpl-"]];

  test.each(translated)("%s: streamed", async (served, idPrefix) => {
    const model = MODELS[served];
    const s = await streamed(model);
    const [created, inProgress, completed] = [s["response.created"]!, s["response.in_progress"]!, s["response.completed"]!];
    expect(created).toEqual({ id: created.id, object: "response", created_at: created.created_at, status: "in_progress", background: false, error: null, output: [], model });
    expect(Object.keys(created)).toEqual([...HEAD, "output", "model"]);
    // in_progress's template has no background and no error.
    expect(Object.keys(inProgress)).toEqual(["id", "object", "created_at", "status", "output", "model"]);
    expect(Object.keys(completed)).toEqual([...HEAD, ...ECHO, "output", "usage"]);
    expect(completed.id).toStartWith(idPrefix);
    expect([inProgress.id, completed.id]).toEqual([created.id, created.id]);
    // As sent (gjson's Int() truncates), not the backend's merge.
    expect([completed.reasoning, completed.temperature, completed.max_output_tokens, completed.tools]).toEqual([{ effort: "high" }, 0.2, 100, REQUEST.tools]);
    expect(completed.output[0].content[0]).toEqual({ type: "output_text", annotations: [], logprobs: [], text: `Mock answer from instance x, model ${model}. ok ok ok ok ok` });
    // OpenAI's translator sets reasoning_tokens only when there are some; EnsureResponsesUsageDetails adds it last.
    const usage = served === "openai" ? ["input_tokens", "input_tokens_details", "output_tokens", "total_tokens", "output_tokens_details"] : USAGE;
    expect(Object.keys(completed.usage)).toEqual(usage);
    expect(completed.usage.output_tokens).toBe(12);
  });

  test.each(translated)("%s: non-streamed", async (served, idPrefix) => {
    const r = await json(MODELS[served]);
    expect(r.id).toStartWith(idPrefix);
    const head = [...HEAD, "incomplete_details"];
    if (served === "claude") {
      // Claude's template holds output and usage; the echo is added after them.
      expect(Object.keys(r)).toEqual([...head, "output", "usage", ...ECHO]);
      expect(Object.keys(r.usage)).toEqual(USAGE);
    } else if (served === "openai") {
      // The echo is of the Chat Completions request sent upstream: max_tokens, model, tools in chat form.
      expect(Object.keys(r)).toEqual([...head, "max_output_tokens", "model", "tool_choice", "tools", "output", "usage"]);
      expect(r.tools).toEqual([{ type: "function", function: { name: "read_file", description: "Reads a file.", parameters: REQUEST.tools[0]!.parameters } }]);
      expect(Object.keys(r.usage)).toEqual(["input_tokens", "output_tokens", "total_tokens", "output_tokens_details", "input_tokens_details"]);
    } else {
      expect(Object.keys(r)).toEqual([...head, ...ECHO, "output", "usage"]);
      expect(Object.keys(r.usage)).toEqual(["input_tokens", "input_tokens_details", "output_tokens", "total_tokens", "output_tokens_details"]);
    }
    expect(r.output[0].content[0].text).toStartWith("Mock answer from instance x");
  });

  // The text events as claude_/gemini_/openai_openai-responses_response.go write them (CLIProxyAPI
  // a7e3596): numbered from 1, logprobs: [] on parts, deltas and text.done, the message item
  // msg_<response id>_0 with content before role. Codex's backend numbers from 0 and has no logprobs.
  test.each(translated)("%s: the events' fields, order and numbering", async (served) => {
    const events = await streamedEvents(MODELS[served]);
    const id = events[0]!.response.id;
    const itemId = `msg_${id}_0`;
    const text = `Mock answer from instance x, model ${MODELS[served]}. ok ok ok ok ok`;
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i + 1));
    const at = { item_id: itemId, output_index: 0, content_index: 0 };
    const part = (t: string) => ({ type: "output_text", annotations: [], logprobs: [], text: t });
    const [added, partAdded, ...rest] = events.slice(2, -1);
    const [textDone, partDone, itemDone] = rest.slice(-3);
    const deltas = rest.slice(0, -3);
    expect(added).toEqual({ type: "response.output_item.added", sequence_number: 3, output_index: 0, item: { id: itemId, type: "message", status: "in_progress", content: [], role: "assistant" } });
    expect(Object.keys(added!.item)).toEqual(["id", "type", "status", "content", "role"]);
    expect(Object.keys(partAdded!)).toEqual(["type", "sequence_number", "item_id", "output_index", "content_index", "part"]);
    expect(partAdded!.part).toEqual(part(""));
    expect(Object.keys(partAdded!.part)).toEqual(["type", "annotations", "logprobs", "text"]);
    for (const d of deltas) {
      expect(Object.keys(d)).toEqual(["type", "sequence_number", "item_id", "output_index", "content_index", "delta", "logprobs"]);
      expect(d).toMatchObject({ type: "response.output_text.delta", ...at, logprobs: [] });
    }
    expect(deltas.map((d) => d.delta).join("")).toBe(text);
    expect(Object.keys(textDone!)).toEqual(["type", "sequence_number", "item_id", "output_index", "content_index", "text", "logprobs"]);
    expect(textDone).toMatchObject({ type: "response.output_text.done", ...at, text, logprobs: [] });
    expect(partDone).toMatchObject({ type: "response.content_part.done", ...at, part: part(text) });
    const item = { id: itemId, type: "message", status: "completed", content: [part(text)], role: "assistant" };
    expect(itemDone).toEqual({ type: "response.output_item.done", sequence_number: events.length - 1, output_index: 0, item });
    expect(Object.keys(itemDone!.item)).toEqual(["id", "type", "status", "content", "role"]);
    expect(events.at(-1)!.response.output).toEqual([item]);
    // The non-streamed item: Gemini's id without the resp_ its response id gained.
    const r = await json(MODELS[served]);
    expect(r.output[0].id).toBe(`msg_${served === "gemini" || served === "antigravity" ? r.id.replace(/^resp_/, "") : r.id}_0`);
  });

  test("only the fields the request had; each read as gjson reads it", async () => {
    const r = (await streamed(MODELS.claude, { instructions: undefined, tools: undefined, store: "true", top_p: "0.5", user: null, previous_response_id: null }))["response.completed"]!;
    expect(r.instructions).toBeUndefined();
    expect(r.tools).toBeUndefined();
    expect([r.store, r.top_p, r.user, r.previous_response_id]).toEqual([true, 0.5, null, ""]);
    expect(Object.keys(r).slice(HEAD.length, -2)).toEqual([
      "max_output_tokens", "model", "previous_response_id", "prompt_cache_key", "reasoning", "store", "temperature", "tool_choice", "top_p", "user", "metadata",
    ]);
  });
});

describe("/v1/responses/compact", () => {
  test("Codex and OpenAI-compatible: the upstream's compaction object, not a response", async () => {
    for (const model of [MODELS.codex, MODELS.openai]) {
      const res = await post("/v1/responses/compact", { model, input: [{ type: "message", role: "user", content: "history" }, { type: "message", role: "assistant", content: "old answer" }] });
      expect(res.status).toBe(200);
      const c = await res.json();
      expect(Object.keys(c)).toEqual(["id", "object", "created_at", "output", "usage"]);
      expect(c.object).toBe("response.compaction");
      expect(c.output).toEqual([{ type: "message", role: "user", content: "history" }, { id: expect.stringMatching(/^cmp_/), type: "compaction", encrypted_content: expect.any(String) }]);
      expect(Object.keys(c.usage)).toEqual(USAGE);
    }
  });

  test("Claude, Gemini and Antigravity: 501, their executors do not compact", async () => {
    for (const model of [MODELS.claude, MODELS.gemini, MODELS.antigravity]) {
      const res = await post("/v1/responses/compact", { model, input: "hi" });
      expect([res.status, await res.json()]).toEqual([501, { error: { message: "/responses/compact not supported", type: "server_error", code: "internal_server_error" } }]);
    }
  });
});

test("a model neither the YAML nor a credential in auth-dir serves is unknown", async () => {
  const res = await post("/v1/responses", { model: "grok-4", input: "hi" });
  expect(res.status).toBe(400);
  expect((await res.json()).error.code).toBe("model_not_found");
});

test("a model the mock takes without knowing who serves it goes by its name; others are Codex's", () => {
  expect(["claude-x", "gemini-x", "gpt-5", "m"].map((m) => upstreamFor("mock", m))).toEqual(["claude", "gemini", "codex", "codex"]);
  expect(["codex", "xai", "claude", "vertex", "antigravity", "aistudio", "kimi", "relay-openai-0"].map((p) => upstreamFor(p, "m"))).toEqual([
    "codex", "codex", "claude", "gemini", "gemini", "gemini", "openai", "openai",
  ]);
});
