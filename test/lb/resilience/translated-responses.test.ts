// A Claude-served model answering a Responses client, end to end: the official openai SDK through
// `gw lb` (a real child process) to a `gw mock` child whose instance YAML registers the model under
// claude-api-key, as gw writes it. CLIProxyAPI's Claude translator opens with a bare
// response.created / in_progress (no instructions, no tools) and echoes the request only in
// response.completed and the non-streamed JSON; its id is the Claude message's. The SDK must build
// the same answer from that, gw must log its usage, and a follow-up naming the id must stay put.
import OpenAI from "openai";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { answerPieces } from "../../../src/mock/answer.ts";
import { logRecords, type MocksBehindGw, mocksBehindGw } from "../../helpers/resilience.ts";
import { tempDir } from "../../helpers/tmp.ts";

const MODEL = "claude-sonnet-4-5";
const INSTRUCTIONS = "You are a careful coding agent.";
const TOOLS: OpenAI.Responses.FunctionTool[] = [
  { type: "function", name: "read_file", description: "Reads a file.", strict: false, parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] } },
];
const REQUEST = { model: "sonnet", input: "fix the failing test", instructions: INSTRUCTIONS, tools: TOOLS, max_output_tokens: 512 };

let dir: string;
let rig: MocksBehindGw | undefined;
let client: OpenAI;

beforeAll(async () => {
  dir = tempDir("gw-translated-");
  rig = await mocksBehindGw(dir, {
    type: "claude",
    mockArgs: (n, port) => {
      // The claude-api-key section gw writes for an anthropic provider (src/instances/yaml.ts).
      const yaml = join(dir, `${n}.yaml`);
      writeFileSync(
        yaml,
        `host: 127.0.0.1\nport: ${port}\napi-keys:\n  - key-${n}\nclaude-api-key:\n  - api-key: sk-${n}\n    base-url: https://relay.invalid\n    models:\n      - name: ${MODEL}\n        alias: ${MODEL}\n`,
      );
      return ["-config", yaml];
    },
    routing: `"sonnet" = [{ instance = "a", provider = "claude", model = "${MODEL}" }, { instance = "b", provider = "claude", model = "${MODEL}" }]\n`,
  });
  client = rig.client;
});
afterAll(() => rig?.stop());

const answerOf = (target: string | null) => answerPieces(target!.split("/")[0]!, MODEL, 12).join("");

test("responses.create, not streamed: the echo and the Claude message's id, the usage logged", async () => {
  const { data, response } = await client.responses.create(REQUEST).withResponse();
  expect(data.id).toStartWith("msg_");
  expect(data.output_text).toBe(answerOf(response.headers.get("x-gw-target")));
  expect([data.instructions, data.tools, data.max_output_tokens, data.model]).toEqual([INSTRUCTIONS, TOOLS, 512, MODEL]);
  // Not echoed: the request had none of them (the Codex backend would send its defaults).
  expect([data.temperature, data.top_p, data.previous_response_id]).toEqual([undefined, undefined, undefined] as never);
  const [rec] = await logRecords(dir, 1, (x) => x.id === response.headers.get("x-gw-request-id"));
  expect([rec!.response.status, rec!.usage?.output]).toEqual([200, 12]);
});

test("responses.create({stream: true}): a bare response.created, the echo in response.completed", async () => {
  const { data, response } = await client.responses.create({ ...REQUEST, stream: true }).withResponse();
  const seen: Partial<Record<string, OpenAI.Responses.Response>> = {};
  let text = "";
  for await (const ev of data) {
    if (ev.type === "response.created" || ev.type === "response.in_progress" || ev.type === "response.completed") seen[ev.type] = ev.response;
    if (ev.type === "response.output_text.delta") text += ev.delta;
  }
  expect(text).toBe(answerOf(response.headers.get("x-gw-target")));
  for (const opening of [seen["response.created"]!, seen["response.in_progress"]!]) {
    expect([opening.instructions, opening.tools, opening.model, opening.status]).toEqual([undefined, undefined, MODEL, "in_progress"] as never);
  }
  const done = seen["response.completed"]!;
  expect([done.instructions, done.tools, done.id]).toEqual([INSTRUCTIONS, TOOLS, seen["response.created"]!.id]);
  expect(done.usage!.output_tokens).toBe(12);
  const [rec] = await logRecords(dir, 1, (x) => x.id === response.headers.get("x-gw-request-id"));
  expect([rec!.response.status, rec!.usage?.output]).toEqual([200, 12]);
});

test("responses.stream: the SDK's final response from a translated stream; a follow-up naming its id stays on its target", async () => {
  const isResponses = (x: { request: { path: string } }) => x.request.path === "/v1/responses";
  const before = (await logRecords(dir, 0, isResponses)).length;
  const stream = client.responses.stream(REQUEST);
  let deltas = "";
  stream.on("response.output_text.delta", (ev) => (deltas += ev.delta));
  const final = await stream.finalResponse();
  expect(final.output_text).toBe(deltas);
  expect(final.output_text).toMatch(/^Mock answer from instance [ab], model claude-sonnet-4-5\./);
  expect([final.instructions, final.tools]).toEqual([INSTRUCTIONS, TOOLS]);
  const where = final.output_text.includes("instance a,") ? "a" : "b";
  // gw remembers the id once the answer has ended; its log record comes after that.
  await logRecords(dir, before + 1, isResponses);
  for (let i = 0; i < 4; i++) {
    const { response } = await client.responses.create({ model: "sonnet", input: "more", previous_response_id: final.id }).withResponse();
    expect(response.headers.get("x-gw-target")).toBe(`${where}/${MODEL}`);
  }
});
