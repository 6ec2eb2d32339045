// `gw migrate`: what a switch from the old generator + PM2 needs beyond providers.toml — the OAuth
// logins the old instances shared in the config's folder, copied into the auth dirs of the
// instances that use them, and the PM2 apps that still hold gw's ports. A dry run unless told to
// apply; PM2 is never driven, only named with the exact commands.

import { relative } from "node:path";
import type { Config } from "../config/types.ts";
import type { CliError } from "../cli/errors.ts";
import { applyCredentials } from "./apply.ts";
import { credentialsIn, describeStep, newestByName, planCredentials, type Step } from "./credentials.ts";
import { ECOSYSTEM_FILES, findEcosystem, planPm2, type Pm2Plan } from "./pm2.ts";
import { pm2StopCommands } from "./pm2-stop.ts";
import { oneLine } from "../cli/one-line.ts";

interface MigrateReport {
  readonly applied: boolean;
  /** The config's folder, which the old instances shared as their auth dir. */
  readonly folder: string;
  /** Where the old credentials were looked for: that folder, and the auth dirs the old instances' YAMLs name. */
  readonly folders: readonly string[];
  readonly credentials: readonly Step[];
  /** Null when there is no ecosystem file. */
  readonly pm2: Pm2Plan | null;
  /** What stopped --apply (the steps after it are not done). */
  readonly problem?: CliError;
}

export async function migrate(config: Config, o: { apply: boolean; ecosystem?: string }): Promise<MigrateReport> {
  const ecosystem = o.ecosystem ?? findEcosystem(config.dir);
  const pm2 = ecosystem ? await planPm2(config, ecosystem) : null;
  const ours = new Set(config.instances.map((i) => i.authDir)); // gw's own auth dirs are where logins go, not where they come from
  const folders = [...new Set([config.dir, ...(pm2?.auth_dirs ?? [])])].filter((d) => d === config.dir || !ours.has(d));
  const old = newestByName((await Promise.all(folders.map(credentialsIn))).flat());
  const planned = await planCredentials(config, old);
  const { steps, problem } = o.apply ? await applyCredentials(planned, old) : { steps: planned, problem: undefined };
  return { applied: o.apply, folder: config.dir, folders, credentials: steps, pm2, ...(problem ? { problem } : {}) };
}

/** The report as text; every line passes oneLine: names in an old folder (files, PM2 apps) are not the terminal's to obey. */
export function formatMigrate(r: MigrateReport): string {
  const out: string[] = [];
  const todo = r.credentials.filter((s) => (s.action === "copy" || s.action === "link") && s.done !== false).length;
  out.push(`OAuth logins of the old layout in ${r.folders.map((f) => (f === r.folder ? f : relative(r.folder, f) || f)).join(", ")}:`);
  if (r.credentials.length === 0) out.push("  none found (credential files are *.json with a \"type\" such as antigravity, claude or codex)");
  const verb = (s: Step) => (s.action !== "copy" && s.action !== "link" ? "" : !r.applied ? "would: " : s.done === false ? "not done: " : "done: ");
  for (const s of r.credentials) out.push(`  ${verb(s)}${describeStep(s, r.folder)}`);
  if (todo && !r.applied) out.push(`  dry run: nothing was copied; run gw migrate --apply to do it`);
  if (todo && r.applied) out.push(`  ${todo} file${todo === 1 ? "" : "s"} written; running instances pick them up (CLIProxyAPI watches its auth dir)`);
  if (r.problem) out.push("  stopped at the first that could not be written (said below); what was written stays");
  const p = r.pm2;
  if (!p) {
    out.push(`PM2: no ecosystem file beside providers.toml (${ECOSYSTEM_FILES.join(", ")}; pass --ecosystem FILE if it lives elsewhere)`);
    return out.map(oneLine).join("\n");
  }
  out.push(`PM2 apps in ${relative(r.folder, p.file) || p.file}: ${p.apps.map((a) => `${a.name}${a.ports.length ? ` (${a.ports.map((x) => x.port).join(", ")})` : ""}`).join(", ") || "none"}`);
  for (const u of p.unread) out.push(`  could not read: ${u} (it is not run, only read)`);
  if (p.holding.length === 0) out.push(`  ${noneHolds(p)}`);
  else {
    for (const h of p.holding) out.push(`  ${h.app} holds port ${h.port}, which gw needs for ${h.gw}`);
    if (p.commands.length) out.push("  stop them before gw up (and keep them from coming back at boot):");
    for (const c of p.commands) out.push(`    ${c}`);
    const byId = pm2StopCommands(["ID"]).join(" && ");
    for (const s of p.stop_by_id) out.push(`  ${JSON.stringify(s.app)}: ${s.why} — stop it by the id pm2 list shows: ${byId}`);
    if (p.unread.length) out.push("  what could not be read may hold more of gw's ports: check it before gw up");
  }
  return out.map(oneLine).join("\n");
}

/** That no app holds gw's ports — only as far as the file could be read. */
function noneHolds(p: Pm2Plan): string {
  if (p.unread.length === 0) return "none holds a port gw uses";
  if (p.apps.length === 0) return "could not tell whether an app holds a port gw uses: see pm2 list, and stop the old setup's apps before gw up";
  return "none of the apps read holds a port gw uses; what could not be read may: check it before gw up";
}
