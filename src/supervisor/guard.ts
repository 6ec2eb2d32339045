// Before gw up starts anything: is a gw already running here, are its ports free?
import { CliError } from "../cli/errors.ts";
import type { Config } from "../config/types.ts";
import { instanceYamlPath } from "../instances/write.ts";
import { controlProbe } from "./control.ts";
import { readSmallText } from "../fs/read-small.ts";
import { createPidFile, removeStalePidFile, runningGw } from "./orphans.ts";
import type { GwPaths } from "./paths.ts";
import { configReaderOn, deniedPort, describeHolder, portTaken } from "./ports.ts";
import { listeningPorts, pidListeningOn } from "./proc.ts";
import { listRunning } from "./registry.ts";
import { typed } from "./self.ts";
import { ANOTHER_GW_EXIT, serviceStart, startedAsService } from "./service.ts";
import type { StatusReport } from "./status.ts";

type Env = Record<string, string | undefined>;

/**
 * Takes this folder for the gw starting, before it touches anything: its pid file, created only
 * where none is (orphans.ts createPidFile). Checking first and writing the file once the instances
 * ran let two `gw up` started at once both through — both on one folder's files, the loser's exit
 * deleting the winner's, which no command could then reach. A pid file whose gw is gone is taken over.
 */
export async function claimFolder(paths: GwPaths, env: Env = process.env): Promise<void> {
  for (let tries = 0; tries < 3; tries++) {
    if ((await createPidFile(paths)) !== false) return;
    const seen = readSmallText(paths.pidFile); // read before it is judged: only this record may go
    await refuseIfRunning(paths, env);
    if (seen !== undefined) removeStalePidFile(paths, seen); // its gw is gone
  }
  throw new CliError(`could not take ${paths.pidFile}: other gws starting here keep taking it`, ANOTHER_GW_EXIT, `see which runs with: ${typed("gw status")}`);
}

export async function refuseIfRunning(paths: GwPaths, env: Env = process.env): Promise<void> {
  const other = await runningGw(paths);
  if (!other) return;
  // Its status only names its URL in the refusal: a busy gw is not waited for to say it runs.
  const status = await controlProbe<StatusReport>(paths, "/status");
  const where = status?.lb ? ` serving ${status.lb.url}` : "";
  throw anotherGw(`gw is already running for ${paths.dir} (pid ${other.pid}${where})`, `see it with: ${typed("gw status")} · stop it with: ${typed("gw down")}`, typed(`gw down -c ${status?.file ?? paths.dir}`), env);
}

export async function refuseBusyMainPort(port: number, host: string, demo: boolean, env: Env = process.env): Promise<void> {
  const taken = await portTaken(port, host);
  if (taken === undefined) return;
  if (taken === "denied") throw new CliError(`port ${port} of the load balancer ${deniedPort()} — ${demo ? `run: ${typed("gw up --port N")}` : "set [global] main_port to 1024 or above (e.g. 8145)"}`);
  const pid = await pidListeningOn(port);
  // A demo started in another folder is otherwise invisible from here: the registry names its config.
  const gw = pid === null ? undefined : (await listRunning(env)).find((e) => e.pid === pid);
  if (gw) {
    const who = gw.demo ? "the gw demo" : gw.kind === "lb" ? "a gw lb" : "another gw";
    const elsewhere = demo ? typed("gw up --port N") : `change [global] main_port (or ${typed("gw up --port N")})`;
    // gw down talks to gw up's control socket; a gw lb has none (control.ts says the same of it).
    const stop = gw.kind === "lb" ? `kill ${gw.pid}` : typed(`gw down -c ${gw.config}`);
    const how = gw.kind === "lb" ? `stop it where it runs (Ctrl-C) or with: ${stop}` : `stop it with: ${stop}`;
    throw anotherGw(`port ${port} of the load balancer is in use by ${who} (pid ${gw.pid}, config ${gw.config})`, `${how} — or run this one elsewhere: ${elsewhere}`, stop, env);
  }
  const fix = demo ? `stop that process or run: ${typed("gw up --port N")}` : "change [global] main_port or stop that process";
  throw new CliError(`port ${port} of the load balancer is in use${await describeHolder(port)} — ${fix}`);
}

/**
 * An instance file a running process gw does not own reads as its config (the old setup's PM2
 * app: `cli-proxy-api -config instances/NAME.yaml`, on the instance's port): gw would rewrite it
 * under that process, which reloads it — losing the old setup's client key and auth dir while
 * gw's own instance cannot start beside it. Refused before any file is written (after
 * stopLeftovers: a gw of this folder killed earlier left its own instances, stopped by then).
 */
export async function refuseRunningReaders(config: Config): Promise<void> {
  const listening = await listeningPorts();
  for (const inst of config.instances) {
    if (!inst.managed || !listening.has(inst.port)) continue;
    const by = await configReaderOn(inst.port, instanceYamlPath(config, inst));
    if (by) throw new CliError(`instances/${inst.name}.yaml is the config of a process gw does not run, on port ${inst.port}${by}: gw would rewrite it under it, so nothing was written`, 1, "stop the old setup's instances first (gw migrate names them), then run this again");
  }
}

/**
 * The refusal when another gw is in the way. Started as gw's service, the line (in the journal, or
 * gw.log for launchd) says the service stays down and how to hand it over. launchd's KeepAlive
 * knows no exit status to spare (it would start gw again every ThrottleInterval for ever), so
 * there the refusal ends gw with status 0, which SuccessfulExit=false leaves alone.
 */
function anotherGw(message: string, hint: string, stop: string, env: Env): CliError {
  const service = startedAsService(env);
  if (!service) return new CliError(message, ANOTHER_GW_EXIT, hint);
  return new CliError(`${message}; the service stays stopped (no retries)`, service === "launchd" ? 0 : ANOTHER_GW_EXIT, `to run gw as the service instead: ${stop}, then ${serviceStart(service)}`);
}
