// The instances write their own logs (their stdout and stderr are the file, spawn.ts): a line that
// finds no room is lost without gw hearing of it. So gw looks at the room left in logs/ instead —
// at every status (gw status, the page, /metrics) and, to say it once in gw.log, at each check.
import { join } from "node:path";
import { noRoomIn, writeProblem } from "../fs/why.ts";

interface LogRoom {
  /** The instances' logs while their disk is full, as one line (fs/why.ts writeProblem); undefined while there is room. */
  problem(): string | undefined;
  /** Say a change (full, or room again) in the log; call it now and then. */
  check(): void;
}

export function instanceLogRoom(logsDir: string, names: () => readonly string[], log: { info(m: string): void; warn(m: string): void }): LogRoom {
  let said: string | undefined;
  const problem = () => {
    const n = names();
    if (!n.length || !noRoomIn(logsDir)) return undefined;
    return writeProblem(join(logsDir, n.length === 1 ? `${n[0]}.log` : `{${n.join(",")}}.log`), { code: "ENOSPC" });
  };
  return {
    problem,
    check() {
      const now = problem();
      if (now && !said) log.warn(`instance logs: ${now}; their lines are lost until there is room`);
      if (!now && said) log.info(`instance logs in ${logsDir} can be written again`);
      said = now;
    },
  };
}
