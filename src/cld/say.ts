import { writeSync } from "node:fs";
import { typedIn } from "../supervisor/self.ts";

/** One status line on stderr, written synchronously so it is out before execve replaces us. */
export function say(line: string, who = "cld"): void {
  writeSync(2, `${who}: ${typedIn(line)}\n`);
}
