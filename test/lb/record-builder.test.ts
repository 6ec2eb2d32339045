// The record of a request that went on to its signature fallback route: which route each attempt
// was made on, and whose params the record lists (those that changed the last attempt's request,
// as its rewrite names them) — also when the fallback route had no target to try and the first
// route's answer stands (a case the wire rarely shows: test/lb/resilience/signature-record.test.ts
// has the others end to end).
import { describe, expect, test } from "bun:test";
import type { Route } from "../../src/config/types.ts";
import { readIntake, routed } from "../../src/lb/intake.ts";
import { RecordBuilder } from "../../src/lb/record-builder.ts";
import { requestFacts } from "../../src/lb/request-state.ts";
import type { AttemptRecord, RequestRecord } from "../../src/observe/record.ts";
import { maskerOf } from "../../src/observe/mask.ts";
import { createMemoryStore } from "../../src/state/index.ts";
import { configFrom, externalInstances } from "../helpers/lb.ts";

const config = configFrom(
  `${externalInstances({ a: "http://127.0.0.1:1", b: "http://127.0.0.1:2" })}
[routing]
"claude-home" = [{ instance = "b", provider = "anthropic", model = "claude-home", params = { reasoning_effort = "high" } }]
"gem" = [{ instance = "a", provider = "anthropic", model = "gemini-3-pro", params = { max_tokens_max = 1000 } }]
`,
);
const home = config.routes.get("claude-home")!;

const SIGNED = {
  model: "gem",
  max_tokens: 16,
  messages: [
    { role: "user", content: "q" },
    { role: "assistant", content: [{ type: "thinking", thinking: "…", signature: "claude#c2lnbmVk" }] },
    { role: "user", content: "q2" },
  ],
};

/** A builder for a signed request to "gem", as the pipeline makes it. */
async function builder(): Promise<RecordBuilder> {
  const url = new URL("http://127.0.0.1:8145/v1/messages");
  const intake = await readIntake(new Request(url, { method: "POST", body: JSON.stringify(SIGNED) }), url, config.global.lb);
  if (intake instanceof Response) throw new Error(`answered ${intake.status}`);
  const facts = requestFacts(new Headers(), intake, config, createMemoryStore(), Date.now());
  return new RecordBuilder(Date.now(), routed(intake), intake.json, facts, maskerOf(config), undefined);
}

const attempt = (target: string, status: number, cls: string): AttemptRecord => ({ target, instance: target.split("/")[0]!, provider: "anthropic", model: target.split("/")[1]!, status, class: cls, ms: 1 });

function finished(b: RecordBuilder, status: number): RequestRecord {
  const sinks = { log: { write() {} }, observe: { record() {} } } as unknown as Parameters<RecordBuilder["finish"]>[1];
  return b.finish({ status, bytes: 0, endAt: performance.now() }, sinks);
}

describe("a record after the signature fallback", () => {
  test("served by the fallback: the first route's attempt names its route; the params are the fallback target's", async () => {
    const b = await builder();
    b.attempt(attempt("a/gemini-3-pro", 400, "signature"), undefined, undefined, ["max_tokens_max"]);
    b.fellBackTo(home);
    b.attempt(attempt("b/claude-home", 200, "ok"), undefined, undefined, ["reasoning_effort"]);
    const r = finished(b, 200);
    expect(r.routing).toMatchObject({ route: "claude-home", requested: "gem", signature_fallback: "claude-home", params: ["reasoning_effort"] });
    expect(r.routing.attempts.map((a) => a.route)).toEqual(["gem", undefined]);
    expect(b.signatureFallback).toBe(home as Route);
  });

  test("the fallback route tried nothing: the first route's answer stands, with its target's params", async () => {
    const b = await builder();
    b.attempt(attempt("a/gemini-3-pro", 400, "signature"), undefined, undefined, ["max_tokens_max"]);
    b.fellBackTo(home);
    const r = finished(b, 400);
    expect(r.routing).toMatchObject({ route: "claude-home", signature_fallback: "claude-home", params: ["max_tokens_max"] });
    expect(r.routing.attempts.map((a) => a.route)).toEqual(["gem"]);
  });

  test("no route of the family could answer (fallbackSkipped): the first route served, no attempt names a route, its facts say untried (for x-gw-route)", async () => {
    const b = await builder();
    b.attempt(attempt("a/gemini-3-pro", 400, "signature"), undefined, undefined, ["max_tokens_max"]);
    b.fallbackSkipped(home);
    expect(b.fallbackFacts).toEqual({ route: home, outcome: "untried" });
    const r = finished(b, 400);
    expect(r.routing).toMatchObject({ route: "gem", signature_fallback: "claude-home", params: ["max_tokens_max"] });
    expect(Object.keys(r.routing.attempts[0]!)).not.toContain("route");
  });

  test("no fallback: no attempt names a route, the params are the route's", async () => {
    const b = await builder();
    b.attempt(attempt("a/gemini-3-pro", 200, "ok"), undefined, undefined, ["max_tokens_max"]);
    const r = finished(b, 200);
    expect(r.routing).toMatchObject({ route: "gem", params: ["max_tokens_max"] });
    expect(r.routing.signature_fallback).toBeUndefined();
    expect(Object.keys(r.routing.attempts[0]!)).not.toContain("route");
  });
});
