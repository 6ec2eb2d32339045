// A request-log line written by the old generated lb.js, read as gw's record. The old LB wrote its
// day files to the same place gw does (`logs/requests/YYYY-MM-DD.jsonl` beside providers.toml),
// so after switching, `gw usage` and the status page meet months of them: they count as requests
// with their tokens and costs instead of vanishing as unreadable lines. Only what usage needs is
// carried over; the old layout is in old-lb.md ("Logs").

import { type AttemptRecord, type RouterRecord, usageRecord } from "./record.ts";
import { isObject } from "../json/object.ts";
import { usageFromJson } from "./tokens.ts";
import type { LoggedRecord } from "./day-files.ts";

const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);

/** The old record as gw's, or null when the object is not one (no `timestamp`, `routing` and `response`). */
export function fromOldLbRecord(o: unknown): LoggedRecord | null {
  if (!isObject(o) || typeof o.timestamp !== "string" || !isObject(o.routing) || !isObject(o.response)) return null;
  const routing = o.routing;
  const request = isObject(o.request) ? o.request : {};
  const instance = str(routing.target_instance);
  const model = str(routing.rewritten_model);
  const status = num(o.response.status_code);
  // The old LB sent a request to a route's target, or unchanged to its default target (no instance).
  const attempts: AttemptRecord[] = instance && model ? [{ target: `${instance}/${model}`, instance, provider: str(routing.provider) ?? "", model, status, class: "", ms: num(o.duration_ms) }] : [];
  const upgrade = isObject(routing.auto_upgrade) ? routing.auto_upgrade : undefined;
  return {
    ts: o.timestamp,
    id: "",
    routing: {
      route: attempts.length ? str(routing.resolved_model) : undefined,
      requested: str(routing.requested_model) ?? str(request.model),
      upgraded: upgrade !== undefined,
      upgrade_reasons: Array.isArray(upgrade?.reasons) ? upgrade.reasons.filter((r): r is string => typeof r === "string") : [],
      sticky: "none",
      attempts,
      params: [],
      router: routerOf(routing.model_router),
    },
    response: { status, bytes: num(o.response.body_length), ms: num(o.duration_ms) },
    // The old LB kept the upstream's own `usage` object (any dialect): read it as gw reads a body.
    usage: isObject(o.usage) ? usageRecord(usageFromJson({ usage: o.usage })) : undefined,
    cooldowns: [],
  };
}

/** The old router's record, for requests it was activated on (gw records no others). */
function routerOf(m: unknown): RouterRecord | undefined {
  if (!isObject(m) || m.activated !== true || typeof m.decision !== "string") return undefined;
  const hit = isObject(m.hit_rule) ? m.hit_rule : undefined;
  const name = str(hit?.name);
  const category = hit?.match === "category" && name ? name.replace(/^cat_/, "") : undefined;
  return {
    decision: m.decision,
    requested: str(m.requested_model) ?? "",
    suggested: str(m.suggested_model),
    resolved: str(m.resolved_model) ?? "",
    applied: m.applied === true,
    ...(category ? { category } : name ? { rule: name } : {}),
  };
}
