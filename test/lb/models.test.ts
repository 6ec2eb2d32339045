// /v1/models as Claude Code's gateway model discovery reads it, the claude-gw-<route> aliases it
// lists being routed like the route itself, and gw's local answers counted in /metrics.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Gateway } from "../../src/lb/server.ts";
import { configFrom, externalInstances, startTestGateway, testUpstream, type TestUpstream } from "../helpers/lb.ts";

let up: TestUpstream, gw: Gateway;

beforeAll(() => {
  up = testUpstream((_req, seen) => Response.json({ model: JSON.parse(seen.body).model }));
  gw = startTestGateway(configFrom(`
[global]
main_port = 8145
default_instance = "a"
${externalInstances({ a: up.url })}
[routing]
"opus4.6" = [{ instance = "a", provider = "anthropic", model = "claude-opus-4-6-thinking" }]
"opus4.6-1m" = [{ instance = "a", provider = "anthropic", model = "claude-opus-4-6", params = { anthropic_beta = "context-1m-2025-08-07" } }]
"g3f" = [{ instance = "a", provider = "anthropic", model = "gemini-3-flash" }]
"mixed" = [
  { instance = "a", provider = "anthropic", model = "gpt-5" },
  { instance = "a", provider = "anthropic", model = "gemini-3-flash", weight = 0 },
]
"kimi" = [{ instance = "a", provider = "anthropic", model = "kimi-k2", context_window = 131072 }]
"mystery" = [{ instance = "a", provider = "anthropic", model = "in-house-model" }]
"claude-direct" = [{ instance = "a", provider = "anthropic", model = "claude-sonnet-4-5" }]
`));
});
afterAll(async () => {
  await gw.stop(0);
  await up.stop();
});

const anthropicList = async () =>
  (await (await fetch(`${gw.url}/v1/models?limit=1000`, { headers: { "anthropic-version": "2023-06-01", authorization: "Bearer k" } })).json()) as {
    data: { id: string; display_name: string; description: string; max_input_tokens: number }[];
  };

describe("what Claude Code's model discovery sees", () => {
  test("every route under an id that starts with claude, so both old and new Claude Code keep it", async () => {
    const ids = (await anthropicList()).data.map((m) => m.id);
    const kept = ids.filter((id) => /^(claude|anthropic)/i.test(id));
    expect(kept).toEqual(["claude-gw-opus4.6", "claude-gw-opus4.6-1m", "claude-gw-g3f", "claude-gw-mixed", "claude-gw-kimi", "claude-gw-mystery", "claude-direct"]);
    // The plain route names stay listed for every other Anthropic client.
    expect(ids.filter((id) => !kept.includes(id))).toEqual(["opus4.6", "opus4.6-1m", "g3f", "mixed", "kimi", "mystery"]);
  });

  test("windows: Claude 200k without the 1M beta, the catalogue otherwise, the smallest target, the override, 200k when unknown", async () => {
    const byId = Object.fromEntries((await anthropicList()).data.map((m) => [m.id, m]));
    expect(byId["claude-gw-opus4.6"]!.max_input_tokens).toBe(200_000);
    expect(byId["claude-gw-opus4.6-1m"]!.max_input_tokens).toBe(1_000_000);
    expect(byId["claude-gw-g3f"]!.max_input_tokens).toBe(1_000_000);
    expect(byId["claude-gw-mixed"]!.max_input_tokens).toBe(400_000); // gpt-5 400k beside gemini-3-flash 1M
    expect(byId["claude-gw-kimi"]!.max_input_tokens).toBe(131_072);
    expect(byId["claude-gw-mystery"]!.max_input_tokens).toBe(200_000);
    const oai = (await (await fetch(`${gw.url}/v1/models`)).json()) as { data: { id: string; context_window: number }[] };
    expect(oai.data.map((m) => [m.id, m.context_window])).toEqual([
      ["opus4.6", 200_000], ["opus4.6-1m", 1_000_000], ["g3f", 1_000_000], ["mixed", 400_000], ["kimi", 131_072], ["mystery", 200_000], ["claude-direct", 200_000],
    ]);
  });

  test("labels say route, upstream model and window; descriptions fit the picker", async () => {
    const byId = Object.fromEntries((await anthropicList()).data.map((m) => [m.id, m]));
    expect(byId["claude-gw-opus4.6"]).toMatchObject({ display_name: "opus4.6 → Claude Opus 4.6 · 200k", description: "gw route opus4.6: a/claude-opus-4-6-thinking · 200k context" });
    expect(byId["claude-gw-mixed"]!.display_name).toBe("mixed → GPT-5 +1 · 400k");
    expect(byId["claude-gw-mystery"]!.display_name).toBe("mystery → in-house-model · 200k");
    for (const m of (await anthropicList()).data) expect(m.description.length).toBeLessThanOrEqual(100);
  });
});

describe("aliases route like their route", () => {
  test("claude-gw-<route> reaches the route's upstream model; the route header names the route", async () => {
    for (const [model, upstream] of [["claude-gw-opus4.6", "claude-opus-4-6-thinking"], ["claude-gw-kimi", "kimi-k2"], ["kimi", "kimi-k2"]] as const) {
      const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, max_tokens: 8, messages: [] }) });
      expect(await res.json()).toEqual({ model: upstream });
      expect(res.headers.get("x-gw-route")).toBe(model.replace("claude-gw-", ""));
    }
  });

  test("a name no route has still goes to the default instance unchanged", async () => {
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "claude-gw-nope", messages: [] }) });
    expect(await res.json()).toEqual({ model: "claude-gw-nope" });
    expect(res.headers.get("x-gw-route")).toBe("-");
  });
});

test("requests gw answers itself are counted in /metrics by path", async () => {
  const count = async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const n = (path: string) => Number(new RegExp(`^gw_local_answers_total\\{path="${path.replace(/[/.]/g, "\\$&")}"\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
    return { root: n("/"), hello: n("/api/hello"), health: n("/healthz"), models: n("/v1/models"), entry: n("/v1/models/{id}"), series: text.split("\n").filter((l) => l.startsWith("gw_local_answers_total{")).length };
  };
  const before = await count();
  await fetch(`${gw.url}/`, { method: "HEAD" });
  await fetch(`${gw.url}/api/hello`, { method: "HEAD" });
  await fetch(`${gw.url}/api/hello`, { method: "HEAD" });
  await fetch(`${gw.url}/healthz`);
  await fetch(`${gw.url}/v1/models`);
  // One name in many spellings is one series: a client cannot grow /metrics without end.
  for (const spelled of ["kimi", "%6Bimi", "%6bimi", "k%69mi", "%6B%69%6D%69"]) expect((await fetch(`${gw.url}/v1/models/${spelled}`)).status).toBe(200);
  const after = await count();
  expect(after).toEqual({ root: before.root + 1, hello: before.hello + 2, health: before.health + 1, models: before.models + 1, entry: before.entry + 5, series: after.series });
  expect(after.series - before.series).toBeLessThanOrEqual(5);
});

describe("the auto router's model", () => {
  let rgw: Gateway;
  beforeAll(() => {
    rgw = startTestGateway(configFrom(`
[global]
main_port = 8145
[global.lb_model_router]
enabled = true
default_model = "g3f"
${externalInstances({ a: up.url })}
[routing]
"g3f" = [{ instance = "a", provider = "anthropic", model = "gemini-3-flash" }]
"gpt" = [{ instance = "a", provider = "anthropic", model = "gpt-5" }]
`));
  });
  afterAll(() => rgw.stop(0));

  test("is listed as claude-gw-auto with the smallest window of the routes it picks, and that id reaches the router", async () => {
    const list = (await (await fetch(`${rgw.url}/v1/models`, { headers: { "anthropic-version": "2023-06-01" } })).json()) as { data: { id: string; max_input_tokens: number; display_name: string }[] };
    expect(list.data.map((m) => m.id)).toEqual(["g3f", "claude-gw-g3f", "gpt", "claude-gw-gpt", "auto", "claude-gw-auto"]);
    expect(list.data.find((m) => m.id === "claude-gw-auto")).toMatchObject({ max_input_tokens: 1_000_000, display_name: "auto → gw router · 1M" });
    const res = await fetch(`${rgw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "claude-gw-auto", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }) });
    expect(await res.json()).toEqual({ model: "gemini-3-flash" });
    expect(res.headers.get("x-gw-route")).toStartWith("auto->g3f");
  });
});
