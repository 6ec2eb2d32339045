// `gw check`'s closing line: problems counted where they are. Those the loader found are in
// providers.toml (or its .env); a .env planted where an instance runs is in the config's folder
// (instances/NAME/.env, supervisor/instance-cwd.ts): an error all the same, but no line of the
// file to fix. OAuth providers without a login are about this machine and never fail the check.
import type { Problem } from "../config/types.ts";

export interface CheckTally {
  readonly file: string;
  /** What the loader found: in the file. */
  readonly inFile: readonly Problem[];
  /** Errors about instances/NAME/ in the config's folder. */
  readonly inFolder: readonly Problem[];
  readonly logins: number;
  /** Instances and routes, when the file loaded. */
  readonly sizes?: { instances: number; routes: number };
}

/** The tally by place, as `gw check --json` gives it (`counts`). */
export function checkCounts(t: CheckTally) {
  const errors = t.inFile.filter((p) => p.severity === "error").length;
  return { file: { errors, warnings: t.inFile.length - errors }, folder: { errors: t.inFolder.length }, machine: { logins_missing: t.logins } };
}

/** One line: the file's errors and warnings (said "in the file" only when more follows), then the folder's, then this machine's. */
export function checkSummary(t: CheckTally): string {
  const c = checkCounts(t);
  const sizes = t.sizes ? `, ${count(t.sizes.instances, "instance")}, ${count(t.sizes.routes, "route")}` : "";
  const folder = c.folder.errors ? `; in its folder: ${count(c.folder.errors, "error")} (a .env where an instance runs, named above)` : "";
  const machine = c.machine.logins_missing ? `; on this machine: ${count(c.machine.logins_missing, "OAuth provider")} without a login (warned above; never a failure)` : "";
  const where = folder || machine ? " in the file" : "";
  return `${t.file}: ${count(c.file.errors, "error")}, ${count(c.file.warnings, "warning")}${where}${sizes}${folder}${machine}`;
}

// --- internal ---

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
