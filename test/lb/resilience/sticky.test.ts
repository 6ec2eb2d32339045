// Sticky sessions end to end: every session source old-lb.md lists keeps a conversation on one
// target of an evenly weighted route; Claude Code's session id means the same session whether it
// comes as header, JSON user_id or the old user_id string; after a failover the session stays
// where it was answered.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { conversationKey, conversationOf } from "../../../src/lb/conversation-key.ts";
import { stickyKey } from "../../../src/lb/session.ts";
import { memoryBackend } from "../../../src/state/index.ts";
import { chat, claude, gemini, geminiClient, logRecords, type Rig, startRig } from "../../helpers/resilience.ts";

let rig: Rig;
const state = memoryBackend();
beforeAll(() => {
  rig = startRig({
    gateway: { state },
    mocks: ["a", "b"],
    global: "lb_transient_cooldown_ms = 300",
    routing: `"duo" = [{ instance = "a", provider = "anthropic", model = "claude-a" }, { instance = "b", provider = "anthropic", model = "claude-b" }]`,
  });
});
afterAll(() => rig.stop());

const uuid = () => crypto.randomUUID();
const jsonUserId = (sid: string) => JSON.stringify({ device_id: "dev-1", account_uuid: uuid(), session_id: sid });

/** 16 conversations of 5 calls each (`call(id, i)`): each stays on one target, and they spread over both. */
async function eachStaysOnOneTarget(call: (id: string, i: number) => Promise<{ target: string; attempts: number }>): Promise<void> {
  const landed = new Set<string>();
  for (let s = 0; s < 16; s++) {
    const id = uuid();
    const targets = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const r = await call(id, i);
      expect(r.attempts).toBe(1);
      targets.add(r.target);
    }
    expect([...targets]).toHaveLength(1);
    landed.add([...targets][0]!);
  }
  expect([...landed].sort()).toEqual(["a/claude-a", "b/claude-b"]);
}

/** How one request names its session, per source. */
const SOURCES: Record<string, (s: string) => { headers?: Record<string, string>; params?: Record<string, unknown> }> = {
  "x-claude-code-session-id": (s) => ({ headers: { "x-claude-code-session-id": s } }),
  "metadata.user_id (JSON string)": (s) => ({ params: { metadata: { user_id: jsonUserId(s) } } }),
  "metadata.user_id (plain)": (s) => ({ params: { metadata: { user_id: `user-${s}` } } }),
  "metadata.user_id (old _session_ form)": (s) => ({ params: { metadata: { user_id: `user_abc_account_${uuid()}_session_${s}` } } }),
  "x-session-id": (s) => ({ headers: { "x-session-id": s } }),
  "x-conversation-id": (s) => ({ headers: { "x-conversation-id": s } }),
  "anthropic-conversation-id": (s) => ({ headers: { "anthropic-conversation-id": s } }),
};

describe.each(Object.keys(SOURCES))("session from %s", (source) => {
  test("each session stays on one target; sessions spread over both", async () => {
    await eachStaysOnOneTarget((sid, i) => claude(rig.anthropic(), "duo", { stream: i % 2 === 1, ...SOURCES[source]!(sid) }));
  }, 30_000);
});

test("Claude Code's session id is one session across header, JSON user_id and the old user_id form", async () => {
  for (let s = 0; s < 10; s++) {
    const sid = uuid();
    const first = await claude(rig.anthropic(), "duo", SOURCES["x-claude-code-session-id"]!(sid));
    for (const source of ["metadata.user_id (JSON string)", "metadata.user_id (old _session_ form)"]) {
      expect((await claude(rig.anthropic(), "duo", SOURCES[source]!(sid))).target).toBe(first.target);
    }
  }
}, 30_000);

test("prompt_cache_key (OpenAI chat) keeps a conversation on one target", async () => {
  for (let s = 0; s < 10; s++) {
    const key = `cache-${uuid()}`;
    const targets = new Set<string>();
    for (let i = 0; i < 4; i++) targets.add((await chat(rig.openai(), "duo", { stream: i === 1, params: { prompt_cache_key: key } })).target);
    expect([...targets]).toHaveLength(1);
  }
}, 30_000);

test("previous_response_id (OpenAI Responses) follows the response to the instance that holds it", async () => {
  const before = (await logRecords(rig.dir, 0, (r) => r.request.path.startsWith("/v1/responses"))).length;
  for (let s = 0; s < 10; s++) {
    // Half the first answers are streamed: the id then comes from the stream's events.
    let firstId = "";
    let where: string | null;
    if (s % 2 === 0) {
      const { data, response } = await rig.openai().responses.create({ model: "duo", input: "hi" }).withResponse();
      [firstId, where] = [data.id, response.headers.get("x-gw-target")];
    } else {
      const { data, response } = await rig.openai().responses.create({ model: "duo", input: "hi", stream: true }).withResponse();
      for await (const ev of data) if (ev.type === "response.completed") firstId = ev.response.id;
      where = response.headers.get("x-gw-target");
    }
    // A Claude-served model's Responses id is the Claude message's (claude_openai-responses_response.go).
    expect(firstId).toStartWith("msg_");
    // The id is remembered once the response has ended; its log record comes after that.
    await logRecords(rig.dir, before + s * 4 + 1, (r) => r.request.path.startsWith("/v1/responses"));
    for (let i = 0; i < 3; i++) {
      const { response: next } = await rig.openai().responses.create({ model: "duo", input: "more", previous_response_id: firstId }).withResponse();
      expect(next.headers.get("x-gw-target")).toBe(where);
    }
  }
}, 30_000);

test("after a failover the session stays on the target that answered, also once the old one is back", async () => {
  const sid = uuid();
  const session = SOURCES["x-claude-code-session-id"]!(sid);
  const home = (await claude(rig.anthropic(), "duo", session)).target;
  const [homeName, otherName] = home.startsWith("a/") ? ["a", "b"] : ["b", "a"];
  await rig.kill(homeName);
  const moved = await claude(rig.anthropic(), "duo", { ...session, stream: true });
  expect(moved).toMatchObject({ status: 200, attempts: 2, target: `${otherName}/claude-${otherName}` });
  rig.revive(homeName);
  // Requests without a session find the old home again once its cooldown is over.
  const end = Date.now() + 20_000;
  while (rig.hits(homeName) === 0) {
    if (Date.now() > end) throw new Error(`${homeName} never came back`);
    await claude(rig.anthropic(), "duo");
  }
  for (let i = 0; i < 6; i++) expect((await claude(rig.anthropic(), "duo", session)).target).toBe(moved.target);

  // The request log tells the session's story: remembered, reused, moved (remembered anew), reused.
  const mine = (await logRecords(rig.dir, 8, (r) => r.request.user !== undefined && r.request.user === userOf(sid))).map((r) => r.routing.sticky);
  expect(mine).toEqual(["set", "set", "hit", "hit", "hit", "hit", "hit", "hit"]);
}, 30_000);

/** The log's `user`: a short sha256 of the session key (Claude Code's id → `cc:<id>`). */
const userOf = (sid: string) => new Bun.CryptoHasher("sha256").update(`cc:${sid}`).digest("hex").slice(0, 12);

// Clients that name no session (Gemini CLI sends none; SDK users of the chat APIs often don't):
// a conversation is told by its opening, which every later turn repeats.
describe("a conversation that names no session stays on one target once it has a reply", () => {
  /** Turn `n` (1-based) of conversation `c` in each API's shape: its opening, then n-1 exchanges. */
  const DIALECTS: Record<string, (c: string, n: number, stream: boolean) => Promise<{ target: string; attempts: number }>> = {
    "Gemini SDK": (c, n, stream) => {
      const contents = [{ role: "user", parts: [{ text: `task ${c}` }] }];
      for (let i = 1; i < n; i++) contents.push({ role: "model", parts: [{ text: `answer ${i}` }] }, { role: "user", parts: [{ text: `go on ${i}` }] });
      return gemini(geminiClient(rig.gw.url), "duo", { stream, contents });
    },
    "Anthropic SDK": (c, n, stream) => {
      const messages: { role: "user" | "assistant"; content: string }[] = [{ role: "user", content: `task ${c}` }];
      for (let i = 1; i < n; i++) messages.push({ role: "assistant", content: `answer ${i}` }, { role: "user", content: `go on ${i}` });
      return claude(rig.anthropic(), "duo", { stream, params: { system: "You are terse.", messages } });
    },
    "OpenAI SDK, chat": (c, n, stream) => {
      const messages: { role: "system" | "user" | "assistant"; content: string }[] = [{ role: "system", content: "You are terse." }, { role: "user", content: `task ${c}` }];
      for (let i = 1; i < n; i++) messages.push({ role: "assistant", content: `answer ${i}` }, { role: "user", content: `go on ${i}` });
      return chat(rig.openai(), "duo", { stream, params: { messages } });
    },
  };

  test.each(Object.keys(DIALECTS))("%s: turns 2 to 6 land where turn 2 did; conversations spread over both targets", async (dialect) => {
    const turn = DIALECTS[dialect]!;
    await eachStaysOnOneTarget(async (id, i) => {
      // Turn 1 holds no reply yet: a weighted pick like any one-shot request, not counted.
      if (i === 0) await turn(id, 1, false);
      return turn(id, i + 2, i % 2 === 0);
    });
  }, 60_000);

  test("requests that only share an opening (a batch of few-shot prompts) do not continue one another: they keep spreading", async () => {
    const landed = new Set<string>();
    const shots = [
      { role: "user" as const, content: "2+2?" },
      { role: "assistant" as const, content: "4" },
    ];
    for (let q = 0; q < 16; q++) {
      const r = await claude(rig.anthropic(), "duo", { params: { system: "Answer with a number.", messages: [...shots, { role: "user", content: `${q}+${q}?` }] } });
      landed.add(r.target);
    }
    expect([...landed].sort()).toEqual(["a/claude-a", "b/claude-b"]);
  }, 30_000);

  test("a conversation keeps one sticky entry, its latest turn's, not one per turn", async () => {
    const messages: { role: "user" | "assistant"; content: string }[] = [{ role: "user", content: `task ${uuid()}` }];
    const keys: string[] = [];
    for (let n = 1; n <= 6; n++) {
      if (n > 1) messages.push({ role: "assistant", content: `answer ${n}` }, { role: "user", content: `go on ${n}` });
      await claude(rig.anthropic(), "duo", { params: { system: "You are terse.", messages } });
      const c = conversationOf({ system: "You are terse.", messages });
      if (c) keys.push(stickyKey(conversationKey(c), "duo"));
    }
    const held = keys.map((k) => state.sticky(k, Date.now()) !== undefined);
    expect(held).toEqual([false, false, false, false, true]);
  }, 30_000);
});
