import { realpathSync } from "node:fs";
import { basename } from "node:path";
import { displayPath } from "../cli/display-path.ts";
import { shellQuote } from "../cli/shell-word.ts";
import { SOURCE_RUN_FLAGS } from "../sys/source-run.ts";
import { typeCommands } from "../cli/typed-text.ts";
import { visibleCommands } from "../commands/index.ts";

/** argv that runs this same gw again (compiled binary, or bun + the entry script). */
export function selfCommand(...args: string[]): string[] {
  return Bun.isStandaloneExecutable ? [process.execPath, ...args] : [process.execPath, ...SOURCE_RUN_FLAGS, Bun.main, ...args];
}

/** Set in the environment of the process `gw up -d` starts: log to gw.log only, no terminal. */
export const DETACHED_ENV = "GW_DETACHED_CHILD";

/**
 * How to type gw in hints: its name when PATH finds this binary under it ("gw"), else the path it
 * was run by (a downloaded ./gw not installed yet, where "gw …" would be "command not found");
 * "bun src/main.ts" when run from a checkout.
 */
export function selfDisplay(): string {
  return (shown ??= findSelfDisplay(inBackground));
}

/**
 * Found once per process: the LB types its own errors with it (a failure storm is thousands), and
 * a PATH search plus two realpaths each time would cost more than the answer. A gw installed
 * meanwhile is named at the next start; the path named meanwhile still works.
 */
let shown: string | undefined;
let shownWhole: string | undefined;

/**
 * A gw in the background runs in its config's folder: its user is elsewhere. Read as this module
 * loads: `gw up` takes the marker out of the environment its instances inherit.
 */
const inBackground = process.env[DETACHED_ENV] === "1";

/** `whole`: for text read away from this process's folder, where a relative ./gw leads nowhere. */
function findSelfDisplay(whole: boolean): string {
  if (!Bun.isStandaloneExecutable) return `bun ${displayPath(Bun.main)}`;
  // run by the cld link, hints still name gw
  const name = basename(process.argv0);
  for (const n of name === "cld" ? ["gw"] : [name, "gw"]) if (isThisBinary(Bun.which(n))) return n;
  // a copy named cld runs cld whatever follows it, so no path types gw: the name it gets installed
  return copiedAsCld() ? "gw" : pathTyped(whole);
}

/** The path this binary was run by, as one shell word that runs it. */
function pathTyped(whole: boolean): string {
  const shown = whole ? process.execPath : displayPath(process.execPath);
  return shellQuote(shown.includes("/") ? shown : `./${shown}`);
}

/** The binary itself is named cld (copied so, not gw install's link, whose target is gw). */
const copiedAsCld = () => basename(process.execPath) === "cld";

/**
 * How to type cld in hints: "cld" when PATH finds this gw under it (gw install's link); a copy
 * named cld, by its path; else "gw cld" as selfDisplay types gw.
 */
export function cldDisplay(): string {
  return (cldShown ??= !Bun.isStandaloneExecutable || isThisBinary(Bun.which("cld")) ? "cld" : copiedAsCld() ? pathTyped(inBackground) : `${selfDisplay()} cld`);
}

let cldShown: string | undefined;

/**
 * A command in a hint as the user of the binary types it: its leading gw or cld word as
 * selfDisplay and cldDisplay say it. From a checkout, as written (the README's names).
 */
export function typed(command: string): string {
  if (!Bun.isStandaloneExecutable) return command;
  const [word] = command.split(" ", 1);
  if (word === "gw") return selfDisplay() + command.slice(2);
  if (word === "cld") return cldDisplay() + command.slice(3);
  return command;
}

/** A command in the load balancer's own answers, which its clients show wherever their user is: a path to gw in full. */
export function typedForClients(command: string): string {
  return Bun.isStandaloneExecutable && command.startsWith("gw ") ? (shownWhole ??= findSelfDisplay(true)) + command.slice(2) : command;
}

/**
 * The install hint where the first hour starts, when PATH finds no gw at all (a gw installed
 * elsewhere is the user's choice). From a checkout too: its hints type gw and cld as the README
 * does, and `bun run gw up` put neither on PATH (`cld --resume ID` was "command not found").
 */
export function installHint(): string | undefined {
  const gw = selfDisplay();
  return (!Bun.isStandaloneExecutable || gw.includes("/")) && !Bun.which("gw") ? `${gw} install   # puts gw and cld on your PATH: then "gw …" and "cld" work as every hint types them` : undefined;
}

function isThisBinary(found: string | null): boolean {
  try {
    return found !== null && realpathSync(found) === realpathSync(process.execPath);
  } catch {
    return false;
  }
}

/**
 * Text that may name commands (a refusal and its fix, a config problem) with gw and cld typed as
 * the user can run them (cli/typed-text.ts); unchanged once both are on PATH, or from a checkout.
 */
export function typedIn(text: string): string {
  if (!Bun.isStandaloneExecutable) return text;
  const names = { gw: selfDisplay(), cld: cldDisplay(), subcommands: PROSE_COMMANDS() };
  return names.gw === "gw" && names.cld === "cld" ? text : typeCommands(text, names);
}

/** Subcommands a message may name; not `version`, which prose uses as a noun ("not a gw version"). */
const PROSE_COMMANDS = () => visibleCommands().filter((c) => c !== "version");
