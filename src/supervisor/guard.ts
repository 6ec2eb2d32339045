// Before gw up starts anything: is a gw already running here, are its ports free?
import { CliError } from "../cli/errors.ts";
import { controlJson } from "./control.ts";
import { runningGw } from "./orphans.ts";
import type { GwPaths } from "./paths.ts";
import { describeHolder, portBusy } from "./ports.ts";
import { pidListeningOn } from "./proc.ts";
import { listRunning } from "./registry.ts";
import type { StatusReport } from "./status.ts";

export async function refuseIfRunning(paths: GwPaths): Promise<void> {
  const other = await runningGw(paths);
  if (!other) return;
  const status = await controlJson<StatusReport>(paths, "/status").catch(() => null);
  const where = status?.lb ? ` serving ${status.lb.url}` : "";
  throw new CliError(`gw is already running for ${paths.dir} (pid ${other.pid}${where})`, 1, "see it with: gw status · stop it with: gw down");
}

export async function refuseBusyMainPort(port: number, host: string, demo: boolean, env: Record<string, string | undefined> = process.env): Promise<void> {
  if (!(await portBusy(port, host))) return;
  const pid = await pidListeningOn(port);
  // A demo started in another folder is otherwise invisible from here: the registry names its config.
  const gw = pid === null ? undefined : (await listRunning(env)).find((e) => e.pid === pid);
  if (gw) {
    const who = gw.demo ? "the gw demo" : "another gw";
    const elsewhere = demo ? "gw up --port N" : "change [global] main_port (or gw up --port N)";
    throw new CliError(`port ${port} of the load balancer is in use by ${who} (pid ${gw.pid}, config ${gw.config})`, 1, `stop it with: gw down -c ${gw.config} — or run this one elsewhere: ${elsewhere}`);
  }
  const fix = demo ? "stop that process or run: gw up --port N" : "change [global] main_port or stop that process";
  throw new CliError(`port ${port} of the load balancer is in use${await describeHolder(port)} — ${fix}`);
}
