// The pm2 commands that stop apps of the old setup for good (stopped, removed from PM2's list,
// and the list saved so they do not come back at boot). Kept apart from the ecosystem reader so
// the supervisor can name them for a busy port without loading it.

import { shellQuote } from "../cli/shell-word.ts";

/** The commands, in order, for these app names. */
export function pm2StopCommands(names: readonly string[]): string[] {
  const list = [...new Set(names)].map(shellQuote).join(" ");
  return list ? [`pm2 stop ${list}`, `pm2 delete ${list}`, "pm2 save"] : [];
}
