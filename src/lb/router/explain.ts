// `gw route explain`: a request body run through the pipeline's own intake and routing facts
// (requestFacts → the router, then auto-upgrade) with a fresh state store, and the target
// route.ts would pick — every step laid out, so rules are tuned without sending traffic.

import type { Config, Route } from "../../config/types.ts";
import { createMemoryStore, type StateStore } from "../../state/index.ts";
import { readIntake } from "../intake.ts";
import { requestFacts, routeHeader } from "../request-state.ts";
import { upstreamModel } from "../rewrite.ts";
import { explainPick } from "../route.ts";
import type { RouterOutcome } from "./decide.ts";
import type { ConditionTrace } from "./evaluate.ts";

export type Outcome = "matched" | "no match" | "passed over: target is no route" | "not reached";

export interface Explanation {
  readonly file: string;
  readonly model: string | null;
  /** Why the router did or did not look at the request. */
  readonly router: "none" | "not activated" | "disabled" | "decided";
  readonly shadow?: boolean;
  readonly decision?: string;
  readonly suggested?: string;
  readonly resolved?: string;
  readonly applied?: boolean;
  readonly factors?: Record<string, unknown>;
  readonly categories?: { name: string; priority: number; target: string; outcome: Outcome; signal?: string }[];
  readonly rules?: { name: string; priority: number; target: string; outcome: Outcome; match: string; conditions?: readonly ConditionTrace[] }[];
  readonly defaultModel?: { name: string; outcome: "used" | "no route of that name" | "not needed" };
  /** The route that serves the request (after auto-upgrade); null = the default instance. */
  readonly route: string | null;
  readonly header: string;
  /** What route.ts picks now (fresh state: no cooldowns, no sticky sessions). */
  readonly target: { id: string; instance: string; model: string; reason: string; pool: { id: string; weight: number; priority: number }[] } | { instance: string; model: string; reason: "default instance" } | null;
}

/** The body's explanation; `error` when intake rejects it (the same 4xx the LB would answer). */
export async function explainBody(config: Config, body: string, o: { path?: string; state?: StateStore } = {}): Promise<Explanation | { error: string }> {
  const url = new URL(`http://gw.local${o.path ?? "/v1/messages"}`);
  const headers = new Headers({ "content-type": "application/json" });
  const req = new Request(url, { method: "POST", body, headers });
  const intake = await readIntake(req, url, config.global.lb);
  if (intake instanceof Response) return { error: `${intake.status}: ${await intake.text()}` };
  const now = Date.now();
  const facts = requestFacts(headers, intake, config, o.state ?? createMemoryStore(), now);
  return {
    file: config.file,
    model: intake.model ?? null,
    ...routerPart(config, facts.router),
    route: facts.route?.name ?? null,
    header: routeHeader(facts, undefined),
    target: targetPart(config, facts.route, intake.model, now),
  };
}

function routerPart(config: Config, o: RouterOutcome | undefined): Omit<Explanation, "file" | "model" | "route" | "header" | "target"> {
  const router = config.global.lb.router;
  if (!router) return { router: "none" };
  if (!o) return { router: "not activated" };
  if (o.decision === "disabled" || !o.evaluation) return { router: "disabled" };
  const ev = o.evaluation;
  const seenCategories = new Map(ev.categories.map((c) => [c.category, c]));
  const seenRules = new Map(ev.rules.map((r) => [r.rule, r]));
  const categoryWon = ev.hit?.kind === "category";
  return {
    router: "decided",
    shadow: o.shadow,
    decision: o.decision,
    ...(ev.suggested !== undefined ? { suggested: ev.suggested } : {}),
    resolved: o.resolved,
    applied: o.applied,
    factors: o.factors?.all(),
    categories: router.categories.map((c) => {
      const t = seenCategories.get(c.name);
      const outcome: Outcome = !t ? "not reached" : t.skipped ? "passed over: target is no route" : t.matched ? "matched" : "no match";
      return { name: c.name, priority: c.priority, target: c.target, outcome, ...(t?.signal ? { signal: t.signal } : {}) };
    }),
    rules: router.rules.map((r) => {
      const t = categoryWon ? undefined : seenRules.get(r.name);
      const outcome: Outcome = !t ? "not reached" : t.skipped ? "passed over: target is no route" : t.matched ? "matched" : "no match";
      return { name: r.name, priority: r.priority, target: r.target, outcome, match: r.match, ...(t?.conditions ? { conditions: t.conditions } : {}) };
    }),
    ...(router.defaultModel !== undefined
      ? { defaultModel: { name: router.defaultModel, outcome: ev.decision === "default_model" ? "used" : ev.decision === "default_model_not_found" ? "no route of that name" : "not needed" } }
      : {}),
  };
}

function targetPart(config: Config, route: Route | undefined, model: string | undefined, now: number): Explanation["target"] {
  if (!route) {
    const name = config.global.lb.defaultInstance;
    return name ? { instance: name, model: model ?? "-", reason: "default instance" } : null;
  }
  const pick = explainPick(route, { tried: new Set(), now });
  if (!pick) return null;
  const t = pick.target;
  return { id: t.id, instance: t.instance, model: upstreamModel(t), reason: pick.reason, pool: route.targets.map((x) => ({ id: x.id, weight: x.weight, priority: x.priority })) };
}

/** The explanation as lines for a terminal. */
export function formatExplanation(e: Explanation): string {
  const out: string[] = [`config    ${e.file}`, `model     ${e.model ?? "(none in the body)"}`];
  const mark: Record<Outcome, string> = { matched: "MATCH", "no match": "no match", "passed over: target is no route": "passed over (target is no route)", "not reached": "not reached" };
  if (e.router === "none") out.push("router    none: providers.toml has no [global.lb_model_router]");
  else if (e.router === "not activated") out.push(e.model === null ? "router    not asked: the body names no model" : `router    leaves "${e.model}" alone (not an activation model)`);
  else if (e.router === "disabled") out.push("router    disabled (enabled = false): the model is kept");
  else {
    out.push(`router    ${e.shadow ? "shadow mode: decides and logs, changes nothing" : "on"}`, "factors");
    for (const [k, v] of Object.entries(e.factors ?? {})) out.push(`  ${k.padEnd(24)} ${show(v)}`);
    out.push("categories (highest priority first; the first match whose target is a route wins)");
    for (const c of e.categories ?? []) out.push(`  ${String(c.priority).padStart(5)}  ${c.name} → ${c.target}  ${mark[c.outcome]}${c.signal ? ` (${c.signal})` : ""}`);
    out.push("rules (only when no category won; highest priority first, first match wins)");
    for (const r of e.rules ?? []) {
      out.push(`  ${String(r.priority).padStart(5)}  ${r.name} → ${r.target}  ${mark[r.outcome]}${r.conditions ? ` (match ${r.match})` : ""}`);
      for (const c of r.conditions ?? []) {
        out.push(`           ${c.matched ? "✓" : "✗"} ${c.field || "(no field)"} ${c.op} ${show(c.expected)}  actual ${show(c.actual)}${c.reason ? `  [${c.reason}]` : ""}`);
      }
    }
    if (e.defaultModel) out.push(`default   ${e.defaultModel.name}: ${e.defaultModel.outcome}`);
    const applied = e.applied ? "applied" : e.shadow ? "not applied: shadow mode" : "nothing to apply";
    out.push(`decision  ${e.decision}${e.suggested ? ` → ${e.suggested}` : ""} (${applied})`);
  }
  out.push(`route     ${e.route ?? "none: the default instance gets it"}   x-gw-route: ${e.header}`);
  const t = e.target;
  if (!t) out.push("target    none: no instance can serve it");
  else if (!("id" in t)) out.push(`target    ${t.instance} (default instance), model ${t.model} sent as is`);
  else out.push(`target    ${t.id} (${t.reason}, fresh state); targets: ${t.pool.map((p) => `${p.id} w${p.weight}${p.priority ? ` p${p.priority}` : ""}`).join(", ")}`);
  return out.join("\n");
}

function show(v: unknown): string {
  const s = typeof v === "string" ? JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v) : JSON.stringify(v);
  return s ?? "undefined";
}
