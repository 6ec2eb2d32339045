// Before gw up starts anything: is a gw already running here, are its ports free?
import { CliError } from "../cli/errors.ts";
import { controlJson } from "./control.ts";
import { runningGw } from "./orphans.ts";
import type { GwPaths } from "./paths.ts";
import { describeHolder, portBusy } from "./ports.ts";
import type { StatusReport } from "./status.ts";

export async function refuseIfRunning(paths: GwPaths): Promise<void> {
  const other = await runningGw(paths);
  if (!other) return;
  const status = await controlJson<StatusReport>(paths, "/status").catch(() => null);
  const where = status?.lb ? ` serving ${status.lb.url}` : "";
  throw new CliError(`gw is already running for ${paths.dir} (pid ${other.pid}${where})`, 1, "see it with: gw status · stop it with: gw down");
}

export async function refuseBusyMainPort(port: number, host: string, fix: string): Promise<void> {
  if (!(await portBusy(port, host))) return;
  throw new CliError(`port ${port} of the load balancer is in use${await describeHolder(port)} — ${fix}`);
}
