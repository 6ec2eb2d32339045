// [routing]: client model name → weighted targets on instances, with per-target params.
import { globalKeyElsewhere } from "./global.ts";
import { type InstanceDraft, PROVIDER_TYPES } from "./instances.ts";
import { headerNameProblem, headerValueProblem } from "./header-text.ts";
import { nameProblem, ROUTE_NAME, saferName } from "./names.ts";
import { type Field, isTable, keyedByName, type Raw, type Reader } from "./reader.ts";
import { didYouMean } from "./suggest.ts";
import { likelyProvider } from "../catalog/families.ts";
import { levelBudget, levelWithin } from "../catalog/effort-levels.ts";
import type { ProviderType, Route, RouteParams, Target } from "./types.ts";

export const TARGET_KEYS = ["instance", "provider", "model", "weight", "priority", "params", "first_byte_timeout_ms", "context_window"];
/** Below this a "window" is a typo (a missing `000`), not a model. */
const MIN_CONTEXT_WINDOW = 1024;
export const PARAM_KEYS = ["reasoning_effort", "thinking_budget_max", "max_tokens_max", "max_tokens_default", "anthropic_beta", "extra_headers", "thinking_level"];
const FORBIDDEN_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection"]);

/**
 * `declared`: every instance the file has, usable or not (an unusable one has its own error), with
 * its provider types where all are known. A target of an unusable instance is still read, so its
 * own mistakes are said in the same check, and left out of the routes.
 */
export function readRouting(r: Reader, raw: Raw, instances: readonly InstanceDraft[], declared: ReadonlyMap<string, readonly string[] | undefined> = new Map()): Map<string, Route> {
  const byName = new Map(instances.map((i) => [i.name, i]));
  const routes = new Map<string, Route>();
  for (const [name, value] of Object.entries(raw)) {
    const path = ["routing", name];
    const bad = nameProblem(ROUTE_NAME, name);
    if (bad) r.error(path, bad, `rename it, e.g. "${saferName(ROUTE_NAME, name)}" = [...]`);
    const list = Array.isArray(value) ? value : isTable(value) ? [value] : undefined;
    if (!list) {
      const misplaced = globalKeyElsewhere("[routing]")(name);
      if (misplaced) r.error(path, `"${name}" is ${misplaced.what}, not a route (a route is a list of targets)`, misplaced.fix);
      else r.error(path, `route "${name}" must be a list of targets`, `"${name}" = [{ instance = "...", provider = "...", model = "..." }]`);
      continue;
    }
    const targets: Target[] = [];
    const seen = new Map<string, number>();
    list.forEach((item, i) => {
      const t = readTarget(r, name, Array.isArray(value) ? [...path, i] : path, item, byName, declared);
      if (!t) return;
      const base = `${t.instance}/${t.model}`;
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      targets.push({ ...t, id: n === 1 ? base : `${base}#${n}` });
    });
    if (list.length === 0) r.error(path, `route "${name}" has no targets`);
    if (targets.length && targets.every((t) => t.weight === 0)) r.warn(path, `every target of route "${name}" has weight 0`, "give at least one target a positive weight");
    routes.set(name, { name, targets });
  }
  return routes;
}

/** The fix for a target's provider its instance does not define: a typo's correction first, never "add" a type gw does not know. */
function providerFix(provider: string, types: readonly string[], instName: string): string {
  const known = PROVIDER_TYPES.includes(provider);
  const its = types.length ? `its providers are: ${types.join(", ")}` : `add { type = "${provider}" } to [instances.${instName}] providers`;
  const own = didYouMean(provider, types);
  if (own) return `did you mean "${own}"?`;
  if (known) return its;
  const guess = didYouMean(provider, PROVIDER_TYPES);
  if (!guess) return `"${provider}" is no provider type: use one of ${PROVIDER_TYPES.join(", ")}`;
  return types.length ? `did you mean "${guess}"? ${its}` : `did you mean "${guess}"?`;
}

function readTarget(r: Reader, route: string, path: (string | number)[], item: unknown, instances: Map<string, InstanceDraft>, declared: ReadonlyMap<string, readonly string[] | undefined>): Omit<Target, "id"> | undefined {
  if (!isTable(item)) {
    r.error(path, "expected a target table", '{ instance = "...", provider = "...", model = "...", weight = 1 }');
    return undefined;
  }
  const f = r.fields(path, item, TARGET_KEYS);
  const instName = r.str(f.get("instance"));
  if (instName === undefined) {
    r.error(path, `a target of route "${route}" names no instance`, "add instance = \"<name of an [instances.X] table>\"");
    return undefined;
  }
  const inst = instances.get(instName);
  if (!inst && !declared.has(instName)) {
    r.error(f.get("instance")!.path, `route "${route}" names unknown instance "${instName}"`, r.fixHint(f.get("instance")!, instName, "an instance's name", () => {
      const near = didYouMean(instName, instances.keys());
      return `${near ? `did you mean "${near}"? ` : ""}define [instances.${instName}] or use one of: ${[...instances.keys()].join(", ") || "(none defined)"}`;
    }));
    return undefined;
  }
  const provider = r.str(f.get("provider")) ?? "";
  const types = declared.get(instName); // not all known: the provider entry's own error says what is wrong
  if (!f.get("provider")) r.warn(path, `a target of route "${route}" names no provider`, `add provider = "${likelyProvider(r.str(f.get("model")), types)}"`);
  else if (types && !types.includes(provider)) {
    r.error(f.get("provider")!.path, `route "${route}": instance "${instName}" defines no provider of type "${provider}"`, providerFix(provider, types, instName));
  }
  let model = r.str(f.get("model"));
  if (model !== undefined && model.trim() === "") {
    // "" (or a ${VAR} set to nothing) would be sent upstream as the model: every request a 400.
    r.error(f.get("model")!.path, "model is empty, so every request to this target would name no model upstream", "write the upstream model name: model = \"<upstream model name>\"");
    model = route;
  } else if (model === undefined) {
    r.warn(path, `a target of route "${route}" names no model; "${route}" is sent upstream`, "add model = \"<upstream model name>\"");
    model = route;
  }
  const fbt = f.get("first_byte_timeout_ms");
  const window = f.get("context_window");
  const target = {
    instance: instName,
    provider: provider as ProviderType | "",
    model,
    weight: r.num(f.get("weight"), { min: 0 }) ?? 1,
    priority: r.int(f.get("priority")) ?? 0,
    params: readParams(r, f.get("params")),
    ...(fbt ? { firstByteTimeoutMs: r.int(fbt, { min: 1 }) } : {}),
    ...(window ? { contextWindow: r.int(window, { min: MIN_CONTEXT_WINDOW }) } : {}),
  };
  return inst ? target : undefined;
}

/** Whether `value` can go out in a header; when not, the error says where and what to do. */
function headerOk(r: Reader, f: Field, value: string): boolean {
  const problem = headerValueProblem(value);
  if (problem) r.error(f.path, `this header value ${problem}`, r.fixHint(f, value, "one line of Latin-1 text", () => "write it as one line of Latin-1 text, without \\r, \\n or \\u0000 escapes"));
  return problem === undefined;
}

const NO_PARAMS: RouteParams = { anthropicBeta: [], extraHeaders: {} };

function readParams(r: Reader, field: Field | undefined): RouteParams {
  const table = r.table(field);
  if (!field || !table) return NO_PARAMS;
  const f = r.fields(field.path, table, PARAM_KEYS);
  const positive = (k: string) => r.oldInt(f.get(k), { min: 1, outside: "skip" });
  const betaField = f.get("anthropic_beta");
  const beta = (r.strList(betaField) ?? []).filter((b) => headerOk(r, betaField!, b));
  const headers = keyedByName<string>();
  const headerField = f.get("extra_headers");
  for (const [name, value] of Object.entries(r.table(headerField) ?? {})) {
    const hf = { raw: name, value, path: [...headerField!.path, name] };
    if (FORBIDDEN_HEADERS.has(name.toLowerCase())) {
      // The old LB skipped host and content-length here too; a file that has them still loads.
      r.warn(hf.path, `extra_headers may not set "${name}", so it is ignored`, "gw computes it for every request; remove it");
      continue;
    }
    const badName = headerNameProblem(name);
    if (badName) {
      r.error(hf.path, `extra_headers: ${badName}`, "write the name as a header has it, letters, digits and - only (e.g. \"X-Relay-Token\")");
      continue;
    }
    const v = r.str(hf);
    if (v !== undefined && headerOk(r, hf, v)) headers[name] = v;
  }
  const effort = f.get("reasoning_effort");
  // Anthropic's Messages API has no effort field, and CLIProxyAPI reads none from a Claude body:
  // the old tool's top-level field did nothing for Claude Code (lb/body-params.ts).
  if (effort && !f.get("thinking_level")) {
    r.warn(effort.path, "reasoning_effort does nothing for Anthropic /v1/messages requests (Claude Code's): that API has no effort field", "add thinking_level, CLIProxyAPI's model suffix, which sets the level in every API");
  }
  const reasoningEffort = r.str(effort);
  const thinkingBudgetMax = positive("thinking_budget_max");
  const thinkingLevel = r.str(f.get("thinking_level"));
  // The route's own level is the route's choice, and goes out as written: only a client's is clamped.
  for (const [key, level] of [["reasoning_effort", reasoningEffort], ["thinking_level", thinkingLevel]] as const) {
    const budget = level === undefined ? undefined : levelBudget(level);
    if (budget !== undefined && thinkingBudgetMax !== undefined && budget > thinkingBudgetMax) {
      r.warn(f.get(key)!.path, `${key} "${level}" asks for a thinking budget of ${budget}, above this route's own thinking_budget_max of ${thinkingBudgetMax}, and goes out as written`, `lower ${key} to "${levelWithin(thinkingBudgetMax)}", or raise thinking_budget_max`);
    }
  }
  return {
    reasoningEffort,
    thinkingBudgetMax,
    maxTokensMax: positive("max_tokens_max"),
    maxTokensDefault: positive("max_tokens_default"),
    anthropicBeta: beta.flatMap((b) => b.split(",")).map((b) => b.trim()).filter(Boolean),
    extraHeaders: headers,
    thinkingLevel,
  };
}
