import { displayPath } from "../cli/display-path.ts";

/** argv that runs this same gw again (compiled binary, or bun + the entry script). */
export function selfCommand(...args: string[]): string[] {
  return Bun.isStandaloneExecutable ? [process.execPath, ...args] : [process.execPath, Bun.main, ...args];
}

/** Set in the environment of the process `gw up -d` starts: log to gw.log only, no terminal. */
export const DETACHED_ENV = "GW_DETACHED_CHILD";

/** How to type gw in hints: "gw" for the binary, "bun src/main.ts" when run from a checkout. */
export function selfDisplay(): string {
  if (Bun.isStandaloneExecutable) return "gw";
  return `bun ${displayPath(Bun.main)}`;
}
