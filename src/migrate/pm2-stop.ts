// The pm2 commands that stop apps of the old setup for good (stopped, removed from PM2's list,
// and the list saved so they do not come back at boot). Kept apart from the ecosystem reader so
// the supervisor can name them for a busy port without loading it.
//
// pm2 does not take every word as an app's name: "all" is every app, a number is a process id,
// `/…/` a pattern, a leading `-` an option — `pm2 delete all` would remove apps that are not the
// old setup's. Such names, and names with control characters (the terminal would show another
// text than the one to type), never go into a printed command; the app is stopped by its id.

import { oneLine } from "../cli/one-line.ts";
import { shellQuote } from "../cli/shell-word.ts";

/** Why `name` cannot stand for its app in a pm2 command; undefined when it can. */
export function misreadName(name: string): string | undefined {
  if (oneLine(name) !== name) return "the name holds control characters, so no terminal shows it as it is";
  if (name === "all") return "pm2 would take this name for every app";
  if (!Number.isNaN(Number(name))) return `pm2 would take this name for the app with id ${Number(name)}`; // pm2's own test: isNaN(name)
  if (name.length > 1 && name.startsWith("/") && name.endsWith("/")) return "pm2 would take this name for a pattern";
  if (name.startsWith("-")) return "pm2 would take this name for an option";
  return undefined;
}

/** The commands, in order, for these apps: a name, or a pm2 id (a number). Names pm2 would misread are left out. */
export function pm2StopCommands(apps: readonly (string | number)[]): string[] {
  const words = [...new Set(apps)].filter((a) => typeof a === "number" || !misreadName(a)).map((a) => shellQuote(String(a)));
  const list = words.join(" ");
  return list ? [`pm2 stop ${list}`, `pm2 delete ${list}`, "pm2 save"] : [];
}
