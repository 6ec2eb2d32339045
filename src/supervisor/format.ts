// Human output of the control commands: the PM2-like status table and small helpers.
import { columns, stackedRows, widestLine } from "../cli/table.ts";
import type { StateHealth } from "../state/index.ts";
import { exitStatus } from "./spawn.ts";
import type { RestartProgress } from "./instances.ts";
import { statusPageUrl } from "./registry.ts";
import type { StatusReport } from "./status.ts";

export function duration(ms: number | null): string {
  if (ms === null) return "-";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return columns([header, ...rows]).lines.join("\n");
}

/** `width`: the terminal's columns; a table wider than that is printed a block per instance. */
export function formatStatus(r: StatusReport, now = Date.now(), width = Infinity): string {
  const lb = r.lb ? `${r.lb.url}  requests ${r.lb.requests}, errors ${r.lb.errors}, in flight ${r.lb.inFlight}` : `not serving yet`;
  const head = [
    `gw ${r.phase}  pid ${r.pid}  up ${duration(r.uptimeMs)}${r.demo ? "  (demo)" : ""}`,
    `lb      ${lb}`,
    ...(r.lb ? [`page    ${statusPageUrl(r.lb.url)}`] : []),
    `config  ${r.file}`,
    ...(r.state ? [`state   ${stateLine(r.state, now)}`] : []),
    ...(r.writes ?? []).map((w) => `files   ${w} — serving on; written again as soon as it can be`),
  ];
  const rows = r.instances.map((i) => [
    i.name,
    i.pid === null ? "-" : String(i.pid),
    String(i.port),
    i.state,
    duration(i.uptimeMs),
    String(i.restarts),
    // A gw from before agoMs (a new binary asking the gw it has not upgraded yet) sent `at` alone.
    i.lastExit ? `${exitStatus(i.lastExit)} ${duration(i.lastExit.agoMs ?? now - i.lastExit.at)} ago` : "-",
    String(i.requests),
    String(i.errors),
    r.coolingKnown ? String(i.cooling.length) : "?",
  ]);
  const header = ["instance", "pid", "port", "state", "uptime", "restarts", "last exit", "requests", "errors", "cooling"];
  const wide = table(header, rows);
  const body = widestLine(wide) <= width ? wide : stackedRows(header, rows, width);
  const notes = r.instances.flatMap((i) => [
    ...(i.problem ? [i.problem] : []),
    ...i.cooling.map((c) => `${i.name}: cooling ${c}`),
    ...(i.halfOpen ?? []).map((c) => `${i.name}: half-open ${c}`),
  ]);
  return [...head, "", body, ...(notes.length ? ["", ...notes] : [])].join("\n");
}

/** `local /srv/gw/.gw/state.db` or `redis redis://host:6379  DOWN 42s: connection refused — serving from local state`. */
export function stateLine(s: StateHealth, now = Date.now()): string {
  const base = s.backend === "memory" ? "memory (nothing kept across restarts)" : `${s.backend} ${s.where}`;
  if (s.up) return base;
  // downForMs: the reporting gw's monotonic measure; a gw from before it sent downSince alone.
  const forMs = s.downForMs ?? (s.downSince === undefined ? undefined : Math.max(0, now - s.downSince));
  const since = forMs === undefined ? "" : ` ${duration(forMs)}`;
  // Redis down: gw goes on with its own copy; the state file down: with nothing but memory.
  const meanwhile = s.backend === "redis" ? "serving from local state" : "keeping state in memory (a restart loses it)";
  return `${base}  DOWN${since}: ${s.problem ?? "unreachable"} — ${meanwhile}`;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** One line of `gw restart`'s progress: an instance waits for its requests, or was restarted. */
export function restartLine(p: RestartProgress): string {
  if (p.event === "draining") return `${p.name}: ${p.removed ? "removed from the config: " : ""}waiting for ${p.streams} request(s) in flight to finish (up to ${secs(p.graceMs)}); ${p.removed ? "then it stops" : "new requests go to other targets or wait for it"}`;
  if (p.event === "superseded") {
    const d = p.drain;
    const drained = !d?.streams ? "" : d.left > 0 ? `waited ${secs(d.ms)}, ${d.left} request(s) still running; ` : `drained after ${d.streams} request(s) in flight finished (${secs(d.ms)}); `;
    return `${p.name}: ${drained}a later reload changed it meanwhile — its ${p.then} follows`;
  }
  const r = p.result;
  const d = r.drain;
  const drained = !d || d.streams === 0 ? "" : d.left > 0 ? ` after ${secs(d.ms)} — ${d.left} request(s) still running were cut (shutdown_grace_ms)` : ` after ${d.streams} request(s) in flight finished (${secs(d.ms)})`;
  return r.ok ? `${r.name}: ${r.added ? "started" : "restarted"}${r.by ? " by the reload" : ""}${drained}, ready in ${secs(r.ms)}` : `${r.name}: ${r.problem || "not ready yet"}`;
}
