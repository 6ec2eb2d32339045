// The real Codex CLI (codex exec), Gemini CLI (gemini -p), opencode (opencode run) and Qwen Code (qwen -p) run a tool round trip through
// `gw run` and gw, offline as in agents-real.test.ts: the `gw mock` behind the route answers the
// first request with a call to a harmless tool the agent declares (the route's upstream model
// carries the knob: `~tool=NAME`, with `~think` a signed reasoning item / thought part first),
// the agent runs it under its own non-interactive approval flags and sends the result back, the
// mock answers text, and the agent prints it and exits 0. What the mock received shows the tool's
// own output; gw's request log shows the session's two requests, both 200, on the route.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RecordedRequest } from "../../src/mock/index.ts";
import { killAll, type Sandbox } from "../helpers/supervisor.ts";
import { agentSandbox, codexDaemonDirCleanup, mockStats, offlineRun, requestLog, versionOf } from "./offline.ts";

setDefaultTimeout(180_000); // real CLIs on a shared 2-core machine
const KEY = "sk-gw-agents-test-0123456789";
const CODEX = versionOf("@openai/codex");
const GEMINI = versionOf("@google/gemini-cli");
const OPENCODE = versionOf("opencode-ai");
const QWEN = versionOf("@qwen-code/qwen-code");
/** What `think` signs with (answer.ts): CLIProxyAPI prefixes a GPT signature with its group, passes Gemini's raw. */
const signature = (model: string) => Buffer.from(`gw-mock-signature:a:${model}`).toString("base64");
/** The file Gemini CLI's read_file reads: the mock fills a required string with "gw-mock". */
const MARKER = "contents only the agent's read_file can have sent back: 7f3a";

let sb: Sandbox;
let home: string;
let work: string;
const removeCodexDaemonDir = codexDaemonDirCleanup();

beforeAll(async () => {
  ({ sb, home, work } = await agentSandbox(KEY, {
    "gpt5-tool": "gpt-5~tool=exec_command",
    "gpt5-think": "gpt-5~think~tool=exec_command",
    "opus-think": "claude-opus-4-6-thinking~think~tool=exec_command",
    "g3f-tool": "gemini-3-flash~tool=read_file",
    "g3f-think": "gemini-3-flash~think~tool=read_file",
    "opus-read": "claude-opus-4-6-thinking~think~tool=read",
    "opus-glob": "claude-opus-4-6-thinking~think~tool=glob",
  }));
  writeFileSync(join(work, "gw-mock"), `${MARKER}\n`);
  mkdirSync(join(home, ".codex"), { recursive: true });
  writeFileSync(join(home, ".codex/config.toml"), `[projects."${work}"]\ntrust_level = "trusted"\n`);
  mkdirSync(join(home, ".gemini"), { recursive: true });
  writeFileSync(join(home, ".gemini/trustedFolders.json"), `{"${work}": "TRUST_FOLDER"}\n`);
});
afterAll(async () => {
  await killAll(sb);
  removeCodexDaemonDir();
});

/** The run's requests as the mock received them: its model names carry the knobs (the route's upstream model). */
const received = (knobs: string): RecordedRequest[] => mockStats(sb, "a").last.filter((r) => r.model === knobs);

/** gw's records of the route: the session's two requests, both answered 200 on it. */
function expectTwoOnRoute(route: string, agent: RegExp, path: string) {
  const records = requestLog(sb).filter((x) => x.routing.route === route);
  expect(records.map((x) => [x.request.path, x.response.status])).toEqual([
    [path, 200],
    [path, 200],
  ]);
  for (const x of records) expect(x.agent).toMatch(agent);
  expect(new Set(records.map((x) => x.request.user)).size).toBe(1);
}

type Item = { type: string; name?: string; call_id?: string; arguments?: string; output?: string; encrypted_content?: string };

describe(`codex ${CODEX}: gw run codex ROUTE exec, the mock calling exec_command`, () => {
  const run = (route: string) =>
    offlineRun(sb, home, work, ["codex", "-c", sb.file, route, "exec", "--skip-git-repo-check", "-s", "read-only", "-c", 'approval_policy="never"', "run the check"]);

  // The Codex backend's shapes (gpt-5, passed through), and CLIProxyAPI's Claude translator's
  // (its reasoning item opens with an empty encrypted_content, filled in at output_item.done).
  // Each with a reasoning item before the call: a call alone is the same round trip with less
  // to check, and each case costs ~12 s of Codex starting.
  test.each([
    ["gpt5-think", "gpt-5", "~think~tool=exec_command", `gpt#${signature("gpt-5")}`],
    ["opus-think", "claude-opus-4-6-thinking", "~think~tool=exec_command", `claude#${signature("claude-opus-4-6-thinking")}`],
  ])("%s: Codex runs the call in its shell, sends the output back, prints the mock's text", async (route, model, knobs, encrypted) => {
    const r = await run(route);
    expect([r.code, r.stderr.match(/^ERROR.*$/m)?.[0]]).toEqual([0, undefined]);
    expect(r.stdout).toContain(`Mock answer from instance a, model ${model}.`);

    const [first, second] = received(model + knobs);
    expect(received(model + knobs)).toHaveLength(2);
    expect((first!.body as { include?: string[] }).include).toContain("reasoning.encrypted_content");
    const input = (second!.body as { input: Item[] }).input;
    const tail = input.slice(-3);
    // The call as the mock made it, then the shell's own word on running `gw-mock` (no such command).
    const call = tail.at(-2)!;
    expect([call.type, call.name, call.arguments]).toEqual(["function_call", "exec_command", '{"cmd":"gw-mock"}']);
    const result = tail.at(-1)!;
    expect([result.type, result.call_id]).toEqual(["function_call_output", call.call_id]);
    expect(result.output).toContain("Process exited with code 127");
    expect(result.output).toContain("gw-mock: command not found");
    // The reasoning item comes back before the call, its encrypted_content as sent.
    expect([tail[0]!.type, tail[0]!.encrypted_content]).toEqual(["reasoning", encrypted]);

    expectTwoOnRoute(route, new RegExp(`^codex_exec/${CODEX}$`), "/v1/responses");
  });
});

type Part = { text?: string; thought?: boolean; thoughtSignature?: string; functionCall?: { name: string; args: unknown; id?: string }; functionResponse?: { name: string; response: { output?: string } } };
type Content = { role: string; parts: Part[] };

describe(`gemini ${GEMINI}: gw run gemini ROUTE -p, the mock calling read_file`, () => {
  test.each([
    ["g3f-tool", "gemini-3-flash~tool=read_file", false],
    ["g3f-think", "gemini-3-flash~think~tool=read_file", true],
  ])("%s: Gemini CLI reads the file, sends its contents back, prints the mock's text", async (route, knobs, think) => {
    const r = await offlineRun(sb, home, work, ["gemini", "-c", sb.file, route, "--approval-mode", "yolo", "-p", "read the file"]);
    expect([r.code, r.stderr.match(/error.*$/im)?.[0]]).toEqual([0, undefined]);
    expect(r.stdout).toContain("Mock answer from instance a, model gemini-3-flash.");

    expect(received(knobs)).toHaveLength(2);
    const contents = (received(knobs)[1]!.body as { contents: Content[] }).contents;
    const [call, result] = contents.slice(-2);
    expect([call!.role, call!.parts.map((p) => p.functionCall)]).toEqual(["model", [{ name: "read_file", args: { file_path: "gw-mock" }, id: expect.any(String) }]]);
    expect([result!.role, result!.parts[0]!.functionResponse?.name]).toEqual(["user", "read_file"]);
    expect(result!.parts[0]!.functionResponse?.response.output).toContain(MARKER);
    // With think: the thought part was taken (Gemini CLI does not send thoughts back) and the
    // call's thoughtSignature returns as sent; without, Gemini CLI stamps its own placeholder.
    expect(call!.parts[0]!.thoughtSignature).toBe(think ? signature("gemini-3-flash") : "skip_thought_signature_validator");

    expectTwoOnRoute(route, new RegExp(`^GeminiCLI[\\w-]*/${GEMINI.replaceAll(".", "\\.")}$`), `/v1beta/models/${route}:streamGenerateContent?alt=sse`);
  });
});

type Block = { type: string; id?: string; name?: string; input?: unknown; tool_use_id?: string; content?: unknown; signature?: string };
type Message = { role: string; content: string | Block[] };

/**
 * A Messages API round trip of one tool call: the route's two turns with tools, the call made
 * after a signed thinking block (returned as signed), the tool's result `found` in the answer to
 * it, and gw's records of the route all 200 from `agent`, in one session.
 */
function expectMessagesRoundTrip(route: string, knobs: string, call: [string, unknown], found: string, agent: string) {
  const turns = received(knobs).filter((q) => ((q.body as { tools?: unknown[] }).tools ?? []).length > 0);
  expect(turns).toHaveLength(2);
  const messages = (turns[1]!.body as { messages: Message[] }).messages;
  const [asked, result] = messages.slice(-2) as [Message, Message];
  const blocks = asked.content as Block[];
  expect(blocks.map((b) => b.type)).toEqual(["thinking", "tool_use"]);
  expect(blocks[0]!.signature).toBe(`claude#${signature("claude-opus-4-6-thinking")}`);
  expect([blocks[1]!.name, blocks[1]!.input]).toEqual(call);
  const answer = (result.content as Block[])[0]!;
  expect([result.role, answer.type, answer.tool_use_id]).toEqual(["user", "tool_result", blocks[1]!.id]);
  expect(JSON.stringify(answer.content)).toContain(found);

  const records = requestLog(sb).filter((x) => x.routing.route === route);
  expect(records.map((x) => [x.agent, x.request.path, x.response.status])).toEqual(records.map(() => [agent, "/v1/messages", 200]));
  expect(new Set(records.map((x) => x.request.user)).size).toBe(1);
}

describe(`opencode ${OPENCODE}: gw run opencode ROUTE run, the mock calling read`, () => {
  test("opus-read, -y: opencode reads the file, sends its contents back with the thinking block as signed, prints the mock's text", async () => {
    // -y before the route: gw puts opencode's --auto after `run`, where opencode reads it.
    const r = await offlineRun(sb, home, work, ["opencode", "-c", sb.file, "-y", "opus-read", "run", "read the file"]);
    expect([r.code, r.stderr.match(/error.*$/im)?.[0]]).toEqual([0, undefined]);
    expect(r.stdout).toContain("Mock answer from instance a, model claude-opus-4-6-thinking.");
    // Besides its session's title (asked of the same route, without tools), the two turns of the call.
    expectMessagesRoundTrip("opus-read", "claude-opus-4-6-thinking~think~tool=read", ["read", { filePath: "gw-mock" }], MARKER, `opencode/${OPENCODE}`);
  });
});

describe(`qwen ${QWEN}: gw run qwen ROUTE -p, the mock calling glob`, () => {
  test("opus-glob, -y: Qwen Code finds the file (its read_file takes absolute paths only), sends what it found back with the thinking block as signed, prints the mock's text", async () => {
    const r = await offlineRun(sb, home, work, ["qwen", "-c", sb.file, "-y", "opus-glob", "-p", "find the file"]);
    expect([r.code, r.stderr.match(/error.*$/im)?.[0]]).toEqual([0, undefined]);
    expect(r.stdout).toContain("Mock answer from instance a, model claude-opus-4-6-thinking.");
    expectMessagesRoundTrip("opus-glob", "claude-opus-4-6-thinking~think~tool=glob", ["glob", { pattern: "gw-mock" }], join(work, "gw-mock"), `claude-cli/${QWEN}`);
  });
});
