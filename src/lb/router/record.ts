// The request log's view of a router decision (observe/record.ts RouterRecord). Built when the
// request has ended, so computing every factor for log_factors never delays the client.

import { type Masker, maskedHead } from "../../observe/mask.ts";
import type { RouterRecord } from "../../observe/record.ts";
import type { RouterOutcome } from "./decide.ts";

/** last_user_text is the user's own words: the log keeps only its start, masked. */
const LOGGED_TEXT_CHARS = 200;

export function routerRecord(o: RouterOutcome, masker: Masker): RouterRecord {
  const r: RouterRecord = { decision: o.decision, requested: o.requested, resolved: o.resolved, applied: o.applied };
  const ev = o.evaluation;
  if (ev?.suggested !== undefined) r.suggested = ev.suggested;
  if (o.shadow) r.shadow = true;
  const hit = ev?.hit;
  if (hit?.kind === "category") {
    r.hit = { name: `cat_${hit.name}`, match: "category", target: hit.target, signal: hit.signal! };
    r.category = hit.name;
  } else if (hit?.kind === "rule") {
    r.hit = { name: hit.name, match: "rule", priority: hit.priority, target: hit.target };
    r.rule = hit.name;
  }
  if (o.held) r.held = { route: o.held.route, decision: o.held.decision };
  if (o.unanswered !== undefined) r.unanswered = o.unanswered;
  if (o.logFactors && o.factors && ev) {
    const factors = o.factors.all();
    factors.last_user_text = maskedHead(masker, String(factors.last_user_text), LOGGED_TEXT_CHARS);
    r.factors = factors;
    // A condition on last_user_text carries the text as its `actual`: the same care applies.
    const short = (v: unknown) => (typeof v === "string" ? maskedHead(masker, v, LOGGED_TEXT_CHARS) : v);
    const rules = ev.rules.map((rule) => (rule.conditions ? { ...rule, conditions: rule.conditions.map((c) => ({ ...c, actual: short(c.actual) })) } : rule));
    r.trace = { categories: [...ev.categories], rules };
  }
  return r;
}
