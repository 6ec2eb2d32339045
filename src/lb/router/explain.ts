// `gw route explain`: a request body run through the pipeline's own intake and routing facts
// (requestFacts → the router, then auto-upgrade) and the target route.ts would pick — every step
// laid out, so rules are tuned without sending traffic. Inside a running gw (its control socket)
// it reads that gw's live state — cooldowns, sticky sessions, streaks, the router's session
// memory, draining instances — through a read-only view; elsewhere it starts from fresh state.

import type { Config, Route } from "../../config/types.ts";
import { duration } from "../../supervisor/format.ts";
import { pad } from "../../cli/table.ts";
import { oneLine } from "../../cli/one-line.ts";
import { availableAt, createMemoryStore, isHalfOpen, readOnly, type StateHealth, type StateStore } from "../../state/index.ts";
import type { DeadEndView } from "../dead-ends.ts";
import { conversationKey } from "../conversation-key.ts";
import { readIntake } from "../intake.ts";
import { pickContext, type RequestFacts, requestFacts, routeHeader } from "../request-state.ts";
import { upstreamModel } from "../rewrite.ts";
import { cooldownFor, explainPick, type PickContext, type PickReason } from "../route.ts";
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
  /** The route chosen first, none of whose targets could answer now: default_model took the request. */
  readonly unanswered?: string;
  /** The route that serves the request (after auto-upgrade); null = the default instance. */
  readonly route: string | null;
  readonly header: string;
  /** What route.ts picks now, from the state named in `state`. */
  readonly target: { id: string; instance: string; model: string; reason: string; pool: PoolEntry[] } | { instance: string; model: string; reason: "default instance" } | null;
  /** The session the LB tells the request by (sticky target, streaks, router memory); null = none. */
  readonly session: string | null;
  /** With no session named: the conversation's key at this request's length, its sticky target's only (conversation-key.ts). */
  readonly conversation?: string;
  /** Whose state the answer was decided on. */
  readonly state: StateSource;
}

/** A running gw's live state (as of `at`), or a fresh one (`running: false`: no gw serves this config). */
export type StateSource = { readonly running: true; readonly pid: number; readonly at: string; readonly store: StateHealth } | { readonly running: false; readonly note?: string };

/** One target of the route and what the state says of it at that moment. */
export interface PoolEntry {
  readonly id: string;
  readonly weight: number;
  readonly priority: number;
  /** Still cooling: passed over unless nothing else can serve (or signed thinking is locked to it). */
  readonly cooling?: { readonly leftMs: number; readonly kind: string; readonly reason: string };
  /** Cooldown over, not yet confirmed: the next request to it is its one trial (`trialLeftMs` while another holds that trial). */
  readonly halfOpen?: { readonly trialLeftMs?: number };
  /** A thinking-signature cooldown, which keeps out signed requests only: this one is not. */
  readonly signedOnly?: { readonly leftMs: number; readonly reason: string };
  /** Its instance is draining for a restart: passed over unless nothing else can serve. */
  readonly draining?: true;
  /** Its instance is known down (lost, or its last probe failed: dead-ends.ts): tried only when nothing else is left. */
  readonly down?: true;
  /** The session's sticky target on this route. */
  readonly sticky?: true;
}

interface ExplainOptions {
  /** Request path the body is posted to (default /v1/messages). */
  readonly path?: string;
  /** Claude Code's session id, sent as the LB reads it (x-claude-code-session-id). */
  readonly session?: string;
  /** A running gw's store, read and never written (default: fresh state). */
  readonly state?: StateStore;
  /** Instances that running gw drains for a restart. */
  readonly draining?: { has(instance: string): boolean };
  /** Targets on instances that running gw knows down (a fresh request has met none of its own). */
  readonly deadEnds?: DeadEndView;
  /** Who the state belongs to, for `state` (without `at`: that is the moment decided here). */
  readonly source?: { readonly pid: number; readonly store: StateHealth };
  readonly note?: string;
}

/** The body's explanation; `error` when intake rejects it (the same 4xx the LB would answer). */
export async function explainBody(config: Config, body: string, o: ExplainOptions = {}): Promise<Explanation | { error: string }> {
  const url = new URL(`http://gw.local${o.path ?? "/v1/messages"}`);
  const headers = new Headers({ "content-type": "application/json" });
  if (o.session) headers.set("x-claude-code-session-id", o.session);
  const req = new Request(url, { method: "POST", body, headers });
  const intake = await readIntake(req, url, config.global.lb);
  if (intake instanceof Response) return { error: `${intake.status}: ${await intake.text()}` };
  const now = Date.now();
  const state = o.state ? readOnly(o.state) : createMemoryStore();
  const facts = requestFacts(headers, intake, config, state, now, { draining: o.draining, deadEnds: o.deadEnds });
  return {
    file: config.file,
    model: intake.model ?? null,
    ...routerPart(config, facts.router),
    route: facts.route?.name ?? null,
    header: routeHeader(facts, undefined),
    target: targetPart(config, facts, intake.model, { state, now, draining: o.draining, deadEnds: o.deadEnds }),
    session: facts.session ?? null,
    ...(facts.conversation ? { conversation: conversationKey(facts.conversation) } : {}),
    state: o.source ? { running: true, pid: o.source.pid, at: new Date(now).toISOString(), store: o.source.store } : { running: false, ...(o.note ? { note: o.note } : {}) },
  };
}

function routerPart(config: Config, o: RouterOutcome | undefined): Omit<Explanation, "file" | "model" | "route" | "header" | "target" | "session" | "conversation" | "state"> {
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
    ...(o.unanswered !== undefined ? { unanswered: o.unanswered } : {}),
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
      ? { defaultModel: { name: router.defaultModel, outcome: ev.decision === "default_model" || o.unanswered !== undefined ? "used" : ev.decision === "default_model_not_found" ? "no route of that name" : "not needed" } }
      : {}),
  };
}

/** The first attempt's pick, on the context an attempt builds (pickContext). */
function targetPart(config: Config, facts: RequestFacts, model: string | undefined, o: Pick<PickContext, "state" | "now" | "draining" | "deadEnds">): Explanation["target"] {
  const route = facts.route;
  if (!route) {
    const name = config.global.lb.defaultInstance;
    return name ? { instance: name, model: model ?? "-", reason: "default instance" } : null;
  }
  const ctx = pickContext(facts, route, { tried: new Set(), ...o });
  const pick = explainPick(route, ctx);
  if (!pick) return null;
  const t = pick.target;
  return { id: t.id, instance: t.instance, model: upstreamModel(t), reason: pick.reason, pool: poolOf(route, ctx) };
}

/** Each target with what the state says of it (read through the same StateView route.ts reads). */
function poolOf(route: Route, ctx: PickContext): PoolEntry[] {
  const { now, state } = ctx;
  const stickyId = ctx.sessionKey === undefined ? undefined : state?.sticky(ctx.sessionKey, now);
  return route.targets.map((t) => {
    // As the pick sees it (route.ts cooldownFor): an unsigned request passes a signature cooldown.
    const c = cooldownFor(route, t, ctx);
    const other = c ? undefined : state?.cooldown(route.name, t.id, now);
    const open = isHalfOpen(c, now);
    const trialLeft = availableAt(c) - now;
    return {
      id: t.id,
      weight: t.weight,
      priority: t.priority,
      ...(c && !open ? { cooling: { leftMs: c.until - now, kind: c.kind, reason: c.reason } } : {}),
      ...(open ? { halfOpen: trialLeft > 0 ? { trialLeftMs: trialLeft } : {} } : {}),
      ...(other ? { signedOnly: { leftMs: Math.max(0, other.until - now), reason: other.reason } } : {}),
      ...(ctx.draining?.has(t.instance) ? { draining: true as const } : {}),
      ...(ctx.deadEnds?.has(t) ? { down: true as const } : {}),
      ...(stickyId === t.id ? { sticky: true as const } : {}),
    };
  });
}

/** The explanation as lines for a terminal. */
export function formatExplanation(e: Explanation): string {
  const out: string[] = [`config    ${e.file}`, `state     ${stateText(e.state)}`, `model     ${e.model ?? "(none in the body)"}`];
  out.push(`session   ${e.session ?? (e.conversation ? `none named; sticky as a conversation (${e.conversation}, its opening and length); streaks count as anon` : "none (nothing is sticky; streaks count as anon): give one with --session ID")}`);
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
    const to = e.unanswered ? ` → ${e.resolved}: ${e.unanswered} cannot answer now (every target cooling or down)` : e.suggested ? ` → ${e.suggested}` : "";
    out.push(`decision  ${e.decision}${to} (${applied})`);
  }
  out.push(`route     ${e.route ?? "none: the default instance gets it"}   x-gw-route: ${e.header}`);
  const t = e.target;
  if (!t) out.push("target    none: no instance can serve it");
  else if (!("id" in t)) out.push(`target    ${t.instance} (default instance), model ${t.model} sent as is`);
  else {
    out.push(`target    ${t.id} (${REASONS[t.reason as PickReason] ?? t.reason})`, "targets");
    const width = Math.max(...t.pool.map((p) => Bun.stringWidth(p.id)));
    for (const p of t.pool) {
      const notes = poolNotes(p, p.id === t.id);
      const w = `w${p.weight}${p.priority ? ` p${p.priority}` : ""}`;
      out.push(`  ${pad(p.id, width)}  ${w.padEnd(7)} ${p.id === t.id ? "← chosen" : "        "}${notes.length ? `  ${notes.join("; ")}` : ""}`.trimEnd());
    }
  }
  // The body's model and session, the config's names and a cooldown's reason are anyone's text:
  // shown escaped, they can neither add lines nor drive the terminal (a title, colours, a clear).
  return out.map(oneLine).join("\n");
}

const REASONS: Record<PickReason, string> = {
  "signature-lock": "signature lock: only the session's target can verify its signed thinking, cooling or not",
  "signature-weight": "signed thinking, no usable sticky target: the heaviest available one",
  sticky: "sticky: the session's target",
  weighted: "weighted pick among the available targets of the highest priority",
  "zero-weight": "only weight-0 targets are available",
  draining: "every other target is cooling: one on an instance draining for a restart",
  "soonest-cooldown": "every target is cooling: the one whose cooldown ends soonest",
  "known-down": "every target left is known down, lost or its last probe failed: tried anyway, the one back soonest",
};

function stateText(s: StateSource): string {
  if (!s.running) return `${s.note ?? "no gw running"}: fresh state (no cooldowns, sticky sessions or streaks)`;
  return `running gw pid ${s.pid}, state as of ${s.at} (${s.store.backend === "memory" ? "memory" : `${s.store.backend} ${s.store.where}`})`;
}

/** What the state says of a target; one passed over says so (the chosen one's reason says why it was taken anyway). */
function poolNotes(p: PoolEntry, chosen: boolean): string[] {
  const notes: string[] = [];
  const skipped = chosen ? "" : ": skipped";
  if (p.cooling) notes.push(`cooling, ${duration(p.cooling.leftMs)} left (${p.cooling.kind}: ${p.cooling.reason})${skipped}`);
  if (p.halfOpen) notes.push(p.halfOpen.trialLeftMs === undefined ? "half-open: this request would be its trial" : `half-open, a trial in flight for ${duration(p.halfOpen.trialLeftMs)}${skipped}`);
  if (p.signedOnly) {
    const s = p.signedOnly;
    notes.push(s.leftMs > 0 ? `thinking-signature cooldown, ${duration(s.leftMs)} left (${s.reason}): keeps out signed requests only` : `thinking-signature cooldown over (${s.reason}): the next signed request is its trial`);
  }
  if (p.draining) notes.push(`instance draining for a restart${skipped}`);
  if (p.down) notes.push(`instance known down (lost, or its last probe failed)${skipped}`);
  if (p.sticky) notes.push("the session's sticky target");
  return notes;
}

function show(v: unknown): string {
  const s = typeof v === "string" ? JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v) : JSON.stringify(v);
  return s ?? "undefined";
}
