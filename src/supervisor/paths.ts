// Where a running gw keeps its files, all relative to the config's directory.
import { join } from "node:path";

export interface GwPaths {
  readonly dir: string;
  /** gw's private state: pid file, child registry, control socket (keys.json lives here too). */
  readonly stateDir: string;
  readonly pidFile: string;
  readonly childrenFile: string;
  readonly socket: string;
  readonly logsDir: string;
  readonly gwLog: string;
}

export function gwPaths(dir: string): GwPaths {
  const stateDir = join(dir, ".gw");
  const logsDir = join(dir, "logs");
  return {
    dir,
    stateDir,
    pidFile: join(stateDir, "gw.pid"),
    childrenFile: join(stateDir, "instances.json"),
    socket: join(stateDir, "gw.sock"),
    logsDir,
    gwLog: join(logsDir, "gw.log"),
  };
}

export const instanceLog = (p: GwPaths, name: string) => join(p.logsDir, `${name}.log`);
export const instanceYaml = (dir: string, name: string) => join(dir, "instances", `${name}.yaml`);
/** Each instance runs in its own directory: CLIProxyAPI writes ./logs and reads ./.env there. */
export const instanceCwd = (dir: string, name: string) => join(dir, "instances", name);
