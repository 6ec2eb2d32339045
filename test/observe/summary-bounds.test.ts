// What a client names in its body (model, roles) reaches the record masked, and masking a text
// with a backslash costs ~10× the plain path (its JSON view): so the record keeps a bounded
// number of role names of their own, and names of a bounded length — a client's 3.7 MB of
// distinct backslashed roles took 0.45 s of the event loop per request to summarize.
import { expect, test } from "bun:test";
import { createMasker } from "../../src/observe/mask.ts";
import { bodyFacts, summarizeRequest } from "../../src/observe/record.ts";
import type { RouterOutcome } from "../../src/lb/router/decide.ts";
import { routerRecord } from "../../src/lb/router/record.ts";

const KEY = "sk-ant-api03-KnownProviderKey0123456789abcdefXYZ";
const masker = createMasker([KEY]);
const summary = (json: Record<string, unknown>, model?: string) =>
  summarizeRequest({ method: "POST", url: "/v1/messages", dialect: "anthropic", model, body: bodyFacts(json), bytes: 1, signed: false, masker });

test("100,000 distinct role names with backslashes: a few of their own (masked), the rest counted as other", () => {
  const messages = Array.from({ length: 100_000 }, (_, i) => ({ role: i % 2 ? "user" : `r${i}\\x`, content: "" }));
  messages.push({ role: `a \\u0073k-ant-api03-KnownProviderKey0123456789abcdefXYZ`, content: "" });
  const roles = summary({ messages }).roles;
  expect(Object.keys(roles).length).toBeLessThanOrEqual(18); // user, other, and 16 of their own
  expect(Object.values(roles).reduce((a, b) => a + b, 0)).toBe(100_001);
  expect(roles.user).toBe(50_000);
  // Roles named early keep their names, masked.
  const few = summary({ messages: [{ role: "user" }, { role: `x\\${KEY}` }, { role: "r\\1" }] }).roles;
  expect(few).toEqual({ user: 1, "x\\sk-ant…fXYZ": 1, "r\\1": 1 });
});

test("a 1 MiB model name with backslashes: logged cut to 256 characters, masked; a short one as before", () => {
  const long = `${KEY} ${"\\q".repeat(1 << 19)}`;
  const model = summary({}, long).model!;
  expect(model.length).toBe(257);
  expect(model.startsWith("sk-ant…fXYZ \\q")).toBe(true);
  expect(model.endsWith("…")).toBe(true);
  // A secret across the cut is masked whole, never shown in part.
  const across = summary({}, `${"m".repeat(240)}\\/${KEY}${"x".repeat(5000)}`).model!;
  expect(across).toBe(`${"m".repeat(240)}\\/sk-ant…fXYZ${"x".repeat(3)}…`);
  expect(summary({}, "claude\\sonnet").model).toBe("claude\\sonnet");
});

test("the router's logged last_user_text: a known secret across its 200-character cut is masked, not shown in part", () => {
  const text = `${"w".repeat(190)} ${KEY} more words`;
  const factors = { all: () => ({ last_user_text: text }) } as unknown as NonNullable<RouterOutcome["factors"]>;
  const evaluation = { categories: [], rules: [] } as unknown as NonNullable<RouterOutcome["evaluation"]>;
  const r = routerRecord({ requested: "auto", decision: "d", resolved: "r", applied: true, shadow: false, logFactors: true, factors, evaluation }, masker);
  expect(r.factors!.last_user_text).toBe(`${"w".repeat(190)} sk-ant…fXYZ`.slice(0, 200));
});
