// `gw migrate`: what a switch from the old generator + PM2 needs beyond providers.toml — the OAuth
// logins the old instances shared in the config's folder, copied into the auth dirs of the
// instances that use them (a login of an old instance's own auth dir only into that instance's), and the PM2 apps that still hold gw's ports. A dry run unless told to
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
  /** Those folders that were the own auth dir of old instances, with the gw instances they were: their logins go to those only. */
  readonly own_folders: readonly { readonly folder: string; readonly instances: readonly string[] }[];
  readonly credentials: readonly Step[];
  /** Null when there is no ecosystem file. */
  readonly pm2: Pm2Plan | null;
  /** What stopped --apply (the steps after it are not done). */
  readonly problem?: CliError;
}

export async function migrate(config: Config, o: { apply: boolean; ecosystem?: string }): Promise<MigrateReport> {
  const ecosystem = o.ecosystem ?? findEcosystem(config.dir);
  const pm2 = ecosystem ? await planPm2(config, ecosystem) : null;
  const owners = folderOwners(config, pm2);
  const folders = [...owners.keys()];
  const old = newestByName((await Promise.all(folders.map((f) => credentialsIn(f, owners.get(f) ?? undefined)))).flat());
  const planned = await planCredentials(config, old);
  const { steps, problem } = o.apply ? await applyCredentials(planned, old) : { steps: planned, problem: undefined };
  const own_folders = folders.flatMap((folder) => (owners.get(folder) ? [{ folder, instances: owners.get(folder)! }] : []));
  return { applied: o.apply, folder: config.dir, folders, own_folders, credentials: steps, pm2, ...(problem ? { problem } : {}) };
}

/**
 * Where old logins are looked for, each with the gw instances its logins go to: the config's
 * folder (shared by the old instances) and any folder a YAML no gw instance matches names go to
 * every instance of their type (null); the own auth dir of old instances, to those instances only
 * — they kept their accounts apart. gw's own auth dirs are where logins go, not where they come from.
 */
function folderOwners(config: Config, pm2: Pm2Plan | null): Map<string, string[] | null> {
  const ours = new Set(config.instances.map((i) => i.authDir));
  const owners = new Map<string, string[] | null>([[config.dir, null]]);
  for (const { dir, instance } of pm2?.auth_dirs ?? []) {
    if (dir === config.dir || ours.has(dir)) continue;
    const was = owners.get(dir);
    owners.set(dir, was === null || instance === null ? null : [...new Set([...(was ?? []), instance])]);
  }
  return owners;
}

/** The report as text; every line passes oneLine: names in an old folder (files, PM2 apps) are not the terminal's to obey. */
export function formatMigrate(r: MigrateReport): string {
  const out: string[] = [];
  const todo = r.credentials.filter((s) => (s.action === "copy" || s.action === "link") && s.done !== false).length;
  out.push(`OAuth logins of the old layout in ${r.folders.map((f) => (f === r.folder ? f : relative(r.folder, f) || f)).join(", ")}:`);
  for (const { folder, instances } of r.own_folders) {
    const one = instances.length === 1;
    out.push(`  ${relative(r.folder, folder) || folder} was ${one ? "old instance" : "the own auth dir of old instances"} ${instances.map((i) => `"${i}"`).join(" and ")}${one ? "'s own auth dir" : ""}: its logins go to ${instances.join(" and ")} only`);
  }
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
