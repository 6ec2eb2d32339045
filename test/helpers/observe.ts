// Helpers for observe tests: request-log records built from a few facts, day files written the
// way the request log writes them, and a parser for the Prometheus text format.

import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { AttemptRecord, RequestRecord } from "../../src/observe/record.ts";

interface RecordFacts {
  ts?: string;
  route?: string;
  dialect?: string;
  status?: number;
  /** Attempts as `target:status:class` (instance = the part before "/", model = the part after). */
  attempts?: string[];
  ms?: number;
  ttfb?: number;
  usage?: RequestRecord["usage"];
  client?: string;
  agent?: string;
  broken?: boolean;
  error?: string;
  cooldowns?: RequestRecord["cooldowns"];
}

let seq = 0;

/** A complete RequestRecord as the LB would write it. */
export function record(f: RecordFacts = {}): RequestRecord {
  const attempts: AttemptRecord[] = (f.attempts ?? []).map((a) => {
    const parts = a.split(":"); // the target may hold ":" itself (default:<instance>)
    const [cls, status] = [parts.pop(), parts.pop()];
    const target = parts.join(":");
    const [instance, model] = target.replace(/^default:/, "").split("/");
    return { target, instance: instance!, provider: "anthropic", model: model ?? "", status: Number(status ?? 200), class: cls ?? "ok", ms: 5 };
  });
  const r: RequestRecord = {
    ts: f.ts ?? new Date().toISOString(),
    id: `r${++seq}`,
    request: { method: "POST", path: "/v1/messages", dialect: f.dialect ?? "anthropic", model: f.route, messages: 1, roles: { user: 1 }, tools: 0, signed: false, bytes: 100 },
    routing: { route: f.route, requested: f.route, upgraded: false, upgrade_reasons: [], sticky: "none", attempts, params: [] },
    response: { status: f.status ?? 200, bytes: 10, ms: f.ms ?? 100 },
    cooldowns: f.cooldowns ?? [],
  };
  if (f.ttfb !== undefined) r.response.ttfb_ms = f.ttfb;
  if (f.broken) r.response.broken = true;
  if (f.error) r.response.error = f.error;
  if (f.usage) r.usage = f.usage;
  if (f.client) r.client = f.client;
  if (f.agent) r.agent = f.agent;
  return r;
}

/** Append records to `<dir>/<UTC day>.jsonl`, one JSON line each. */
export function writeRecords(dir: string, records: readonly RequestRecord[]): void {
  mkdirSync(dir, { recursive: true });
  const byDay = new Map<string, string[]>();
  for (const r of records) {
    const day = r.ts.slice(0, 10);
    byDay.set(day, [...(byDay.get(day) ?? []), `${JSON.stringify(r)}\n`]);
  }
  for (const [day, lines] of byDay) appendFileSync(join(dir, `${day}.jsonl`), lines.join(""));
}

/** Prometheus text → sample name with labels (as written) → value; plus the TYPE of each family. */
export function parseExposition(text: string): { samples: Map<string, number>; types: Map<string, string>; helps: Set<string> } {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  const helps = new Set<string>();
  for (const line of text.split("\n")) {
    if (!line) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    else if (line.startsWith("# HELP ")) helps.add(line.split(" ")[2]!);
    else {
      const i = line.lastIndexOf(" ");
      samples.set(line.slice(0, i), Number(line.slice(i + 1)));
    }
  }
  return { samples, types, helps };
}
