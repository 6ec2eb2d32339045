// The `auto` router end to end: the later-format example as providers.toml, two `gw mock`
// instances behind the real gateway, real SDK clients. Every documented decision reaches the
// right upstream model, says itself in x-gw-route and in the request log, and `gw route explain`
// (the real command, on the same file and body) agrees with what the LB did. Shadow mode,
// auto-upgrade after the router, the session hold, the signature lock and failover on the
// resolved route are checked the same way.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../../src/config/index.ts";
import type { Gateway } from "../../../src/lb/server.ts";
import { externalInstances, startTestGateway } from "../../helpers/lb.ts";
import { type MockServer, startMock } from "../../helpers/mock.ts";
import { answeredBy, claude, geminiClient, logRecords } from "../../helpers/resilience.ts";
import { runGw, tempDir } from "../../helpers/tmp.ts";
import { body, DECISIONS, ROUTER_ROUTES, routerTable } from "./fixture.ts";

const MODELS = ["minimax-m2.5", "claude-sonnet-4-6", "claude-opus-4-6"];

interface Setup {
  dir: string;
  file: string;
  gw: Gateway;
  mocks: Record<string, MockServer>;
  anthropic: Anthropic;
  stop(): Promise<void>;
}

/** providers.toml on disk (explain reads it too), mocks `cheap` and `strong`, the gateway. */
async function setup(o: { shadow?: boolean; global?: string; routing?: string } = {}): Promise<Setup> {
  const dir = tempDir("gw-router-");
  const mocks = { cheap: startMock({ name: "cheap", apiKeys: ["key-cheap"], models: MODELS }), strong: startMock({ name: "strong", apiKeys: ["key-strong"], models: MODELS }) };
  const urls = { cheap: mocks.cheap.url, strong: mocks.strong.url };
  const toml = `[global]\nmain_port = 8145\nhost = "127.0.0.1"\n${o.global ?? ""}\n${routerTable({ shadow: o.shadow })}\n${externalInstances(urls)}\n[routing]\n${o.routing ?? ROUTER_ROUTES}`;
  const file = join(dir, "providers.toml");
  writeFileSync(file, toml);
  const { config, problems } = await loadConfig(file);
  if (!config) throw new Error(problems.map((p) => p.message).join("\n"));
  const gw = startTestGateway(config);
  return {
    dir,
    file,
    gw,
    mocks,
    anthropic: new Anthropic({ baseURL: gw.url, apiKey: "client", maxRetries: 0 }),
    async stop() {
      await gw.stop(0);
      await Promise.all(Object.values(mocks).map((m) => m.stop()));
    },
  };
}

/** One Anthropic request with the body's own fields; the answer's gw headers. */
async function send(s: Setup, b: Record<string, unknown>, headers: Record<string, string> = {}, stream = false) {
  const { model, messages, ...params } = b as { model: string; messages: Anthropic.MessageParam[] };
  return claude(s.anthropic, model, { params: { messages, ...(params as object) }, headers, stream });
}

describe("the later-format example, end to end", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup({ global: `lb_auto_upgrade_enabled = true\nlb_auto_upgrade_messages_threshold = 8\n[global.lb_auto_upgrade_map]\n"M2.5" = "opus4.6"\n` });
  });
  afterAll(() => s.stop());

  const UPSTREAM: Record<string, [string, string]> = { "M2.5": ["cheap", "minimax-m2.5"], "sonnet4.6": ["strong", "claude-sonnet-4-6"], "opus4.6": ["strong", "claude-opus-4-6"] };

  for (const [what, b, decision, route] of DECISIONS) {
    test(`${what}: ${decision} → ${route}, in the header, the upstream and the log`, async () => {
      const r = await send(s, b);
      const [instance, model] = UPSTREAM[route]!;
      expect(r.status).toBe(200);
      expect(r.route).toStartWith(`${b.model}->${route} (`);
      expect(r.target).toBe(`${instance}/${model}`);
      expect(answeredBy(r.text)).toBe(instance);
      expect((s.mocks[instance]!.stats(1).last[0]!.body as { model: string }).model).toBe(model);

      const [rec] = await logRecords(s.dir, 1, (x) => x.routing.router?.decision === decision && x.routing.router.requested === b.model && x.routing.route === route && x.request.messages === (b.messages as unknown[]).length);
      expect(rec!.routing.router).toMatchObject({ decision, requested: b.model, suggested: route, resolved: route, applied: true });
      expect(rec!.routing.router!.factors).toMatchObject({ requested_model: b.model });
      expect(rec!.routing.router!.trace!.categories.length).toBeGreaterThan(0);
    }, 30_000);
  }

  test("a streamed request is routed the same way", async () => {
    const r = await send(s, body("auto", "Implement a cache"), {}, true);
    expect(r).toMatchObject({ status: 200, route: "auto->sonnet4.6 (category coding)", target: "strong/claude-sonnet-4-6" });
  }, 30_000);

  test("OpenAI chat completions too", async () => {
    const client = new OpenAI({ baseURL: `${s.gw.url}/v1`, apiKey: "client", maxRetries: 0 });
    const { response } = await client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "fix the failing test" }] }).withResponse();
    expect(response.headers.get("x-gw-route")).toBe("auto->sonnet4.6 (category coding)");
  }, 30_000);

  test("Responses (Codex) and Gemini bodies are routed by what they ask, as gw route explain says", async () => {
    const explainOf = async (b: Record<string, unknown>, path: string) => {
      const bodyFile = join(s.dir, "dialect-body.json");
      writeFileSync(bodyFile, JSON.stringify(b));
      const out = await runGw(["route", "explain", "-c", s.file, bodyFile, "--path", path, "--json"]);
      expect(out.code).toBe(0);
      return JSON.parse(out.stdout).header as string;
    };
    const openai = new OpenAI({ baseURL: `${s.gw.url}/v1`, apiKey: "client", maxRetries: 0 });
    const responses = { model: "auto", instructions: "Be terse.", input: [{ role: "user" as const, content: [{ type: "input_text" as const, text: "fix the failing test" }] }] };
    const r = await openai.responses.create(responses).withResponse();
    expect(r.response.headers.get("x-gw-route")).toBe("auto->sonnet4.6 (category coding)");
    expect(await explainOf(responses, "/v1/responses")).toBe("auto->sonnet4.6 (category coding)");
    const plan = await openai.responses.create({ model: "auto", instructions: "You are in plan mode.", input: "go on" }).withResponse();
    expect(plan.response.headers.get("x-gw-route")).toBe("auto->opus4.6 (category architecture)");

    const g = await geminiClient(s.gw.url).models.generateContent({ model: "auto", contents: "Implement a trie" });
    expect(g.sdkHttpResponse?.headers?.["x-gw-route"]).toBe("auto->sonnet4.6 (category coding)");
    const geminiBody = { contents: [{ role: "user", parts: [{ text: "Implement a trie" }] }] };
    expect(await explainOf(geminiBody, "/v1beta/models/auto:generateContent")).toBe("auto->sonnet4.6 (category coding)");
  }, 30_000);

  test("the log records the hit with its signal, and the matched category", async () => {
    const r = await send(s, body("auto", "continue please"));
    expect(r.status).toBe(200);
    const [rec] = await logRecords(s.dir, 1, (x) => x.routing.router?.hit?.signal === "keyword:^(yes|no|continue)\\b");
    expect(rec!.routing.router).toMatchObject({ category: "quick", hit: { name: "cat_quick", match: "category", target: "M2.5" } });
  }, 30_000);

  test("the logged streaks are the ones the decision saw, not the ones its own outcome left", async () => {
    const h = { "x-claude-code-session-id": "9a3f1c2e-0000-4000-8000-0000000000a1" };
    for (const text of ["Implement streak one", "Implement streak two"]) expect((await send(s, body("auto", text), h)).status).toBe(200);
    const recs = await logRecords(s.dir, 2, (x) => String(x.routing.router?.factors?.last_user_text).startsWith("Implement streak"));
    const seen = (text: string) => recs.find((x) => x.routing.router!.factors!.last_user_text === text)!.routing.router!.factors;
    expect(seen("Implement streak one")).toMatchObject({ success_streak: 0, failure_streak: 0 });
    expect(seen("Implement streak two")).toMatchObject({ success_streak: 1, failure_streak: 0 });
  }, 30_000);

  test("auto-upgrade runs after the router, on the resolved route", async () => {
    const r = await send(s, body("auto", "hi", { history: 8 }));
    expect(r).toMatchObject({ status: 200, route: "auto->M2.5 (category quick)->opus4.6 (messages 9>=8)", target: "strong/claude-opus-4-6" });
  }, 30_000);

  test("/v1/models lists the router's models beside the routes", async () => {
    const list = (await (await fetch(`${s.gw.url}/v1/models`)).json()) as { data: { id: string }[] };
    expect(list.data.map((m) => m.id)).toEqual(["M2.5", "sonnet4.6", "opus4.6", "auto", "auto-canary"]);
  });

  test("a model outside activation_models is left alone and carries no router record", async () => {
    const r = await claude(s.anthropic, "sonnet4.6");
    expect(r.route).toBe("sonnet4.6");
    const [rec] = await logRecords(s.dir, 1, (x) => x.request.model === "sonnet4.6");
    expect(rec!.routing.router).toBeUndefined();
  }, 30_000);

  test("gw route explain agrees with the LB, body by body", async () => {
    for (const [, b] of DECISIONS) {
      const bodyFile = join(s.dir, "body.json");
      writeFileSync(bodyFile, JSON.stringify(b));
      const out = await runGw(["route", "explain", "-c", s.file, bodyFile, "--json"]);
      expect(out.code).toBe(0);
      const e = JSON.parse(out.stdout);
      const lb = await send(s, b);
      expect(e.header).toBe(lb.route);
      const upstream = lb.target.split("/")[1];
      expect(e.target.model).toBe(upstream);
    }
  }, 60_000);
});

describe("the session hold and the signature lock, through the LB", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  });
  afterAll(() => s.stop());

  test("a session stays on its route while the category flickers; a higher-priority hit moves it", async () => {
    const h = { "x-claude-code-session-id": "9a3f1c2e-0000-4000-8000-000000000001" };
    expect((await send(s, body("auto", "Implement the lexer"), h)).route).toBe("auto->sonnet4.6 (category coding)");
    const held = await send(s, body("auto", "hi", { history: 2 }), h);
    expect(held).toMatchObject({ route: "auto->sonnet4.6 (session hold: category coding)", target: "strong/claude-sonnet-4-6" });
    const [rec] = await logRecords(s.dir, 1, (x) => x.routing.router?.decision === "session_hold");
    expect(rec!.routing.router).toMatchObject({ suggested: "M2.5", resolved: "sonnet4.6", held: { route: "sonnet4.6", decision: "category_hit_coding" } });
    expect((await send(s, body("auto", "Propose a system design", { history: 4 }), h)).route).toBe("auto->opus4.6 (category architecture)");
    expect((await send(s, body("auto", "Implement it", { history: 6 }), h)).route).toBe("auto->opus4.6 (session hold: category architecture)");
  }, 30_000);

  test("a token count is routed as its turn would be, but leaves no hold on the session", async () => {
    const h = { "x-claude-code-session-id": "9a3f1c2e-0000-4000-8000-000000000003" };
    const { model, messages } = body("auto", "Implement the lexer") as { model: string; messages: Anthropic.MessageParam[] };
    const { response } = await s.anthropic.messages.countTokens({ model, messages }, { headers: h }).withResponse();
    expect(response.headers.get("x-gw-route")).toBe("auto->sonnet4.6 (category coding)");
    expect((await send(s, body("auto", "hi", { history: 2 }), h)).route).toBe("auto->M2.5 (category quick)");
  }, 30_000);

  test("signed thinking goes back to the route that signed it, whatever the rules say", async () => {
    const h = { "x-claude-code-session-id": "9a3f1c2e-0000-4000-8000-000000000002" };
    const first = await send(s, body("auto", "Implement the lexer"), h);
    expect(first.route).toBe("auto->sonnet4.6 (category coding)");
    // The next turn carries the signed thinking of that answer and asks for architecture (priority 500).
    const next = body("auto", "Propose a system design", { history: 2 });
    (next.messages as unknown[])[1] = { role: "assistant", content: [{ type: "thinking", thinking: "…", signature: "claude#c2lnbmVk" }, { type: "text", text: "done" }] };
    const r = await send(s, next, h);
    expect(r).toMatchObject({ status: 200, route: "auto->sonnet4.6 (signature lock)", target: "strong/claude-sonnet-4-6" });
  }, 30_000);
});

describe("shadow mode", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup({ shadow: true });
  });
  afterAll(() => s.stop());

  test("nothing is rewritten: `auto` reaches the default instance as sent, and the log says what would have happened", async () => {
    const err = (await send(s, body("auto", "Implement the parser")).then(
      () => undefined,
      (e: unknown) => e as { status: number; headers: Headers; message: string },
    ))!;
    expect(err.status).toBe(400);
    expect(err.message).toContain("unknown provider for model auto");
    expect(err.headers.get("x-gw-route")).toBe("auto (shadow: sonnet4.6, category coding)");
    expect(err.headers.get("x-gw-target")).toBe("cheap/auto");
    expect((s.mocks.cheap!.stats(1).last[0]!.body as { model: string }).model).toBe("auto");
    const [rec] = await logRecords(s.dir, 1, (x) => x.routing.router?.shadow === true);
    expect(rec!.routing.router).toMatchObject({ decision: "category_hit_coding", requested: "auto", suggested: "sonnet4.6", resolved: "auto", applied: false });
    const list = (await (await fetch(`${s.gw.url}/v1/models`)).json()) as { data: { id: string }[] };
    expect(list.data.map((m) => m.id)).not.toContain("auto"); // nothing would serve it
  }, 30_000);
});

describe("cooldowns and failover apply to the resolved route", () => {
  let s: Setup;
  beforeAll(async () => {
    const routing = ROUTER_ROUTES.replace(
      `"sonnet4.6" = [{ instance = "strong", provider = "anthropic", model = "claude-sonnet-4-6" }]`,
      `"sonnet4.6" = [{ instance = "strong", provider = "anthropic", model = "claude-sonnet-4-6~503", priority = 1 }, { instance = "cheap", provider = "anthropic", model = "claude-sonnet-4-6" }]`,
    );
    s = await setup({ routing });
  });
  afterAll(() => s.stop());

  test("the failing target fails over, then cools and is skipped", async () => {
    const first = await send(s, body("auto", "Implement a queue"));
    expect(first).toMatchObject({ status: 200, route: "auto->sonnet4.6 (category coding)", target: "cheap/claude-sonnet-4-6", attempts: 2 });
    const second = await send(s, body("auto", "Implement a stack"));
    expect(second).toMatchObject({ status: 200, target: "cheap/claude-sonnet-4-6", attempts: 1 });
    const [rec] = await logRecords(s.dir, 1, (x) => x.cooldowns.length > 0);
    expect(rec!.cooldowns[0]).toMatchObject({ route: "sonnet4.6", target: "strong/claude-sonnet-4-6~503" });
  }, 30_000);
});

describe("a chosen route that cannot answer gives the request to default_model", () => {
  let s: Setup;
  beforeAll(async () => {
    // sonnet4.6's only target answers 503: one failure cools it.
    const routing = ROUTER_ROUTES.replace(`model = "claude-sonnet-4-6" }`, `model = "claude-sonnet-4-6~503" }`);
    s = await setup({ routing });
  });
  afterAll(() => s.stop());

  test("coding while sonnet4.6 cools: M2.5 answers, the header and the log say why; a plain request to sonnet4.6 still gets its own answer", async () => {
    const first = await send(s, body("auto", "Implement a queue")).catch((e: InstanceType<typeof Anthropic.APIError>) => e);
    expect((first as InstanceType<typeof Anthropic.APIError>).status).toBe(503);
    const second = await send(s, body("auto", "Implement a stack"));
    expect(second).toMatchObject({ status: 200, route: "auto->M2.5 (default: sonnet4.6 cannot answer now)", target: "cheap/minimax-m2.5", attempts: 1 });
    const [rec] = await logRecords(s.dir, 1, (x) => x.routing.router?.decision === "unanswered_fallback");
    expect(rec!.routing.router).toMatchObject({ requested: "auto", suggested: "sonnet4.6", unanswered: "sonnet4.6", resolved: "M2.5", applied: true, category: "coding" });
    expect(rec!.routing.route).toBe("M2.5");
    // Naming the route is the client's choice: no fallback there.
    const named = await send(s, body("sonnet4.6", "Implement a stack")).catch((e: InstanceType<typeof Anthropic.APIError>) => e);
    expect((named as InstanceType<typeof Anthropic.APIError>).status).toBe(503);
  }, 30_000);
});
