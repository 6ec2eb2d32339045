// Issue 12 item 16: routes stay the allow-list of what reaches upstream models, whatever the
// Content-Type says. A body that is a JSON object is routed, rewritten and limited like any JSON
// request — with text/plain (what a browser form or a careless client sends), with curl -d's
// form-urlencoded, or with no type — and reaches the upstream as application/json. Bodies that
// are not JSON pass as bytes only when their type does not claim JSON (multipart uploads).
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Gateway } from "../../src/lb/server.ts";
import { configFrom, startTestGateway, testUpstream, type TestUpstream } from "../helpers/lb.ts";

let routed: TestUpstream, fallback: TestUpstream, gw: Gateway;
beforeAll(() => {
  routed = testUpstream((_req, seen) => Response.json({ via: "routed", type: seen.headers.get("content-type"), body: seen.body }));
  fallback = testUpstream((_req, seen) => Response.json({ via: "default", type: seen.headers.get("content-type"), body: seen.body }));
  gw = startTestGateway(configFrom(`
[global]
main_port = 8145
default_instance = "fallback"
[instances.routed]
url = "${routed.url}"
api_key = "k-routed"
providers = [{ type = "anthropic", api_keys = ["p1"] }]
[instances.fallback]
url = "${fallback.url}"
api_key = "k-fallback"
providers = [{ type = "anthropic", api_keys = ["p2"] }]
[routing]
"opus" = [{ instance = "routed", provider = "anthropic", model = "claude-opus-up", params = { max_tokens_max = 100 } }]
`));
});
afterAll(async () => {
  await gw.stop(0);
  await routed.stop();
  await fallback.stop();
});

const JSON_BODY = JSON.stringify({ model: "opus", max_tokens: 32000, messages: [{ role: "user", content: "hi" }] });
const post = (body: BodyInit, type?: string) => {
  const headers = new Headers();
  if (type) headers.set("content-type", type);
  return fetch(`${gw.url}/v1/messages`, { method: "POST", headers, body });
};
type Echo = { via: string; type: string | null; body: string };

test("a JSON body is routed and its params applied whatever its Content-Type: text/plain, form-urlencoded, none", async () => {
  for (const type of ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", undefined, "application/json"]) {
    const res = await post(new Blob([JSON_BODY]), type); // a Blob carries no type of its own
    const echo = (await res.json()) as Echo;
    const sent = JSON.parse(echo.body) as { model: string; max_tokens: number };
    expect({ type, via: echo.via, model: sent.model, maxTokens: sent.max_tokens, upstreamType: echo.type }).toEqual({
      type,
      via: "routed",
      model: "claude-opus-up",
      maxTokens: 100,
      upstreamType: "application/json",
    });
    expect(res.headers.get("x-gw-route")).toBe("opus");
  }
});

test("non-JSON bodies: bytes to the default instance when their type says so; a JSON type must parse", async () => {
  const form = new FormData();
  form.append("model", "opus");
  form.append("image", new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])]), "a.png");
  const multipart = (await (await fetch(`${gw.url}/v1/images/edits`, { method: "POST", body: form })).json()) as Echo;
  expect(multipart.via).toBe("default");
  expect(multipart.type).toStartWith("multipart/form-data; boundary=");
  expect(multipart.body).toContain('name="model"');

  const text = (await (await post("just words, {not json", "text/plain")).json()) as Echo;
  expect(text).toMatchObject({ via: "default", type: "text/plain", body: "just words, {not json" });
  const notQuiteJson = (await (await post("{not json", "text/plain")).json()) as Echo; // starts like JSON, is not
  expect(notQuiteJson).toMatchObject({ via: "default", body: "{not json" });

  for (const type of ["application/json", undefined]) {
    const res = await post(new Blob(["{not json"]), type);
    expect({ type, status: res.status }).toEqual({ type, status: 400 });
  }
});
