// `cld` / `gw cld`: parse, pick the mode, then launch. cp is gw run's claude agent (Claude Code
// through the gateway); ag and official need no config and hand the terminal to claude directly.
import { writeSync } from "node:fs";
import { typed } from "../supervisor/self.ts";
import { cldUsage, parseCldArgs } from "./args.ts";
import type { Env } from "./memory.ts";

export async function runCld(argv: readonly string[], env: Env): Promise<number> {
  // cld is gw: its version, as gw --version says it (no menu first); Claude Code's is its own flag in a mode.
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
    writeSync(2, `cld is gw; Claude Code's version: ${typed("cld")} official --version\n`);
    return (await import("../version.ts")).printVersion(false);
  }
  const args = parseCldArgs(argv);
  if (args.help) {
    writeSync(1, cldUsage(typed("cld"), typed("gw")));
    return 0;
  }
  return (await import("./start.ts")).startCld(args, env);
}
