// A prompt-too-long refusal that does not come as the status: inside a 200 stream (Codex's backend
// sends it as response.failed; CLIProxyAPI gives other Responses clients an `error` event with
// only its code and message) or after CLIProxyAPI's keep-alive newlines. It goes on to the larger
// window as a 400 does — the same window passed over, the refusing target not cooled — unseen by
// the client (gw mock's window=N with after=0 or ns-keepalive).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { answeredBy, claude, type Rig, startRig, withRecord } from "../../helpers/resilience.ts";

const LONG = "lorem ipsum ".repeat(850); // ~2,500 tokens at the mock's 4 bytes a token: over 2,000

let rig: Rig;

/** `a` refuses as `fault` says, `b` has the same window (passed over), `c` a larger one. */
const route = (name: string, prefix: string, fault: string) =>
  `"${name}" = [\n` +
  `  { instance = "a", provider = "anthropic", model = "${prefix}-a~window=2000~${fault}", context_window = 2000, priority = 2 },\n` +
  `  { instance = "b", provider = "anthropic", model = "${prefix}-b~window=2000~${fault}", context_window = 2000, priority = 1 },\n` +
  `  { instance = "c", provider = "anthropic", model = "${prefix}-c", context_window = 1000000 },\n]`;

beforeAll(() => {
  rig = startRig({
    mocks: ["a", "b", "c"],
    global: "lb_max_target_retries = 2",
    routing: [
      route("codex.events", "gpt", "after=0"),
      route("claude.events", "claude", "after=0"),
      route("claude.spaced", "claude", "ns-keepalive=100~slow-first=350"),
    ].join("\n"),
  });
});
afterAll(() => rig.stop());

/** The request's attempts as [instance, class, status], and whether anything cooled. */
async function attemptsOf(model: string, send: () => Promise<unknown>) {
  const [, rec] = await withRecord(rig.dir, model, send);
  return { attempts: rec.routing.attempts.map((a) => [a.instance, a.class, a.status]), cooled: rec.cooldowns.length };
}

test("OpenAI SDK, responses stream: the `error` event (code context_length_exceeded, no type) goes on to c; a is not cooled", async () => {
  const hits = [rig.hits("a"), rig.hits("b"), rig.hits("c")];
  let text = "";
  let attempts = "";
  const seen = await attemptsOf("codex.events", async () => {
    const { data, response } = await rig.openai().responses.create({ model: "codex.events", stream: true, input: LONG }).withResponse();
    for await (const ev of data) if (ev.type === "response.output_text.delta") text += ev.delta;
    attempts = response.headers.get("x-gw-attempts") ?? "";
  });
  expect([answeredBy(text), attempts]).toEqual(["c", "2"]);
  expect(seen).toEqual({ attempts: [["a", "context", 400], ["c", "ok", 200]], cooled: 0 });
  expect([rig.hits("a") - hits[0]!, rig.hits("b") - hits[1]!, rig.hits("c") - hits[2]!]).toEqual([1, 0, 1]);
});

test("Codex client: response.failed with context_length_exceeded goes on to c", async () => {
  const seen = await attemptsOf("codex.events", async () => {
    const res = await fetch(`${rig.gw.url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "codex_cli_rs/0.80.0 (Debian 13; x86_64)" },
      body: JSON.stringify({ model: "codex.events", stream: true, input: LONG }),
    });
    const text = await res.text();
    expect([res.status, res.headers.get("x-gw-attempts"), text.includes("response.failed"), text.includes("event: response.completed")]).toEqual([200, "2", false, true]);
  });
  expect(seen).toEqual({ attempts: [["a", "context", 400], ["c", "ok", 200]], cooled: 0 });
});

test("Anthropic SDK, stream: the error event after message_start goes on to c", async () => {
  let r: Awaited<ReturnType<typeof claude>> | undefined;
  const seen = await attemptsOf("claude.events", async () => {
    r = await claude(rig.anthropic(), "claude.events", { stream: true, params: { messages: [{ role: "user", content: LONG }] } });
  });
  expect([answeredBy(r!.text), r!.attempts]).toEqual(["c", 2]);
  expect(seen).toEqual({ attempts: [["a", "context", 400], ["c", "ok", 200]], cooled: 0 });
});

test("Anthropic SDK, not streamed: the refusal after keep-alive newlines goes on to c under the same 200", async () => {
  let r: Awaited<ReturnType<typeof claude>> | undefined;
  const seen = await attemptsOf("claude.spaced", async () => {
    r = await claude(rig.anthropic(), "claude.spaced", { params: { messages: [{ role: "user", content: LONG }] } });
  });
  expect([r!.status, answeredBy(r!.text)]).toEqual([200, "c"]);
  expect(seen).toEqual({ attempts: [["a", "context", 400], ["c", "ok", 200]], cooled: 0 });
});

test("lb_max_target_retries at its default (1): windows of 1,500, 2,000 (believed 3,000, so the first refusal's count does not rule it out) and 1M — a refusal by each smaller one still reaches the 1M, and a 429 first keeps its one failover", async () => {
  const steps = startRig({
    mocks: ["a", "b", "c", "d"],
    routing: [
      `"steps" = [`,
      `  { instance = "a", provider = "anthropic", model = "claude-a~window=1500", context_window = 1500, priority = 3 },`,
      `  { instance = "b", provider = "anthropic", model = "claude-b~window=2000", context_window = 3000, priority = 2 },`,
      `  { instance = "c", provider = "anthropic", model = "claude-c", context_window = 1000000, priority = 1 },`,
      `]`,
      `"limited" = [`,
      `  { instance = "d", provider = "anthropic", model = "claude-d~429", priority = 3 },`,
      `  { instance = "a", provider = "anthropic", model = "claude-a~window=2000", context_window = 2000, priority = 2 },`,
      `  { instance = "c", provider = "anthropic", model = "claude-c", context_window = 1000000, priority = 1 },`,
      `]`,
    ].join("\n"),
  });
  try {
    const ask = (model: string) => claude(steps.anthropic(), model, { params: { messages: [{ role: "user", content: LONG }] } });
    const [r, rec] = await withRecord(steps.dir, "steps", () => ask("steps"));
    expect([answeredBy(r.text), rec.routing.attempts.map((a) => [a.instance, a.class])]).toEqual(["c", [["a", "context"], ["b", "context"], ["c", "ok"]]]);
    const [l, lrec] = await withRecord(steps.dir, "limited", () => ask("limited"));
    expect([answeredBy(l.text), lrec.routing.attempts.map((a) => [a.instance, a.class])]).toEqual(["c", [["d", "transient"], ["a", "context"], ["c", "ok"]]]);
  } finally {
    await steps.stop();
  }
});
