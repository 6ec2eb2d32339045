// The instance files for gw gen and gw login. While a gw serves this directory, instances/*.yaml
// are its own: CLIProxyAPI hot-reloads them, so a file written here would hand the running
// instances a config that gw refused, or half-apply one it would take (the instances on the new
// config, the gateway routing by the old). Then the running gw writes them, by its own reload
// (gateway and files: both or neither), and with no gw running they are written here.
import { dirname } from "node:path";
import { displayPath } from "../cli/display-path.ts";
import { CliError } from "../cli/errors.ts";
import { loadConfig } from "../config/index.ts";
import type { Config, Problem } from "../config/types.ts";
import { readSmallText } from "../fs/read-small.ts";
import { samePath } from "../fs/same-path.ts";
import { instanceYaml, makeAuthDirsPrivate, managedInstanceFiles, withInstanceKeys, writeInstanceFiles } from "../instances/index.ts";
import { controlJson, NotRunningError } from "../supervisor/control.ts";
import { refuseRunningReaders } from "../supervisor/guard.ts";
import { gwPaths } from "../supervisor/paths.ts";
import { listRunning } from "../supervisor/registry.ts";
import { typed } from "../supervisor/self.ts";
import type { Phase, StatusReport } from "../supervisor/status.ts";
import { withInstances } from "./_config.ts";
import { followReload } from "./_restarts.ts";

export interface InstanceFilesOutcome {
  /** The files whose bytes this command changed (by its own write, or the running gw's reload). */
  readonly written: string[];
  /** Auth dirs left open to other users that gw could not make private (instances/auth-dir.ts), whoever wrote the files. */
  readonly warnings?: readonly Problem[];
  /** The gw that wrote them, when one runs this config. */
  readonly by?: {
    readonly kind: "up" | "lb";
    readonly pid: number;
    /** A gw up that could not reload (starting, stopping): the files already were this config's. */
    readonly phase?: Phase;
  };
}

/**
 * Make instances/*.yaml those of `config` (keyed; loaded from its file just now), or fail with
 * one line and nothing written. `quiet`: no progress lines (--json). `login` (gw login NAME): that
 * instance's file is all that is wanted, so a running gw up is not reloaded when the file already
 * is this config's, nor when it does not run that instance (the file is written here: nothing
 * it runs reads it) — its other changes (routes, other instances, an edit it would refuse) are
 * gen's and reload's business, not a login's.
 */
export async function syncInstanceFiles(config: Config, quiet: boolean, login?: string): Promise<InstanceFilesOutcome> {
  const paths = gwPaths(config.dir);
  const status = await controlJson<StatusReport>(paths, "/status").catch((err: unknown) => {
    if (err instanceof NotRunningError) return null;
    throw err;
  });
  if (status) return withAuthDirWarnings(config, await reloadRunning(config, status, quiet, login));
  // A gw lb of this directory (by any path to it: a linked directory is the same one).
  const lb = (await listRunning()).find((g) => g.kind === "lb" && samePath(dirname(g.config), config.dir));
  if (lb && !samePath(lb.config, config.file)) throw anotherConfig(config, `the running gw lb (pid ${lb.pid})`, lb.config, `kill ${lb.pid}`);
  if (lb) return withAuthDirWarnings(config, await checkLbFiles(await servedAs(config, lb.config), lb.pid));
  await refuseRunningReaders(config);
  const warnings: Problem[] = [];
  return { written: await writeInstanceFiles(config, (p) => warnings.push(p)), warnings };
}

/**
 * The files a running gw wrote (or had): its reload tightened the auth dirs and said what stays
 * open only to gw.log and its answer — an answer whose lines mix in the config's own warnings, as
 * the gw formats them from its folder, which gen printed already. Tightening again here changes
 * nothing and says the same lines gen says with no gw running, for whichever gw wrote them.
 */
const withAuthDirWarnings = (config: Config, outcome: InstanceFilesOutcome): InstanceFilesOutcome => ({ ...outcome, warnings: makeAuthDirsPrivate(config) });

/** The running gw up reloads its config and writes the files itself; a refusal writes nothing. */
async function reloadRunning(config: Config, status: StatusReport, quiet: boolean, login: string | undefined): Promise<InstanceFilesOutcome> {
  const who = `the running gw (pid ${status.pid})`;
  // Its config by another path (a linked directory) is this one, not another.
  if (!samePath(status.file, config.file)) throw anotherConfig(config, who, status.file, typed(`gw down -c ${status.file}`));
  // Starting or stopping, it cannot reload: files that already are this config's need none (a gw
  // login while gw up waits for its instances), others wait for it. Nor does a login need one.
  if (status.phase !== "serving" || login) {
    const served = await servedAs(config, status.file);
    const mine = login === undefined ? served : withInstances(served, (i) => i.name === login);
    if ((await staleInstances(mine)).length === 0) return { written: [], by: { kind: "up", pid: status.pid, ...(status.phase === "serving" ? {} : { phase: status.phase }) } };
    // An instance the gw does not run (added since, or refused with the rest of an edit): no
    // CLIProxyAPI of it reads the file, so it is written here, whatever the gw makes of the edit.
    if (login && !status.instances.some((i) => i.name === login)) return { written: await writeInstanceFiles(mine) };
  }
  if (status.phase !== "serving") {
    throw new CliError(
      `${who} is ${status.phase}: it cannot reload now, so no instance file was written`,
      1,
      status.phase === "starting" ? `run this again once it serves (${typed("gw status")})` : "run this again once it has stopped",
    );
  }
  const files = managedInstanceFiles(config).map((f) => f.path);
  const before = files.map(readOrNull);
  const { answer } = await followReload(gwPaths(config.dir), quiet);
  if (!answer.ok) {
    const why = answer.problems.find((p) => p.includes("  error: ")) ?? answer.problems[0] ?? "the reload failed";
    throw new CliError(`${who} did not take this config, so no instance file was written: ${why}`);
  }
  const after = files.map(readOrNull);
  return { written: files.filter((_, i) => after[i] !== before[i]), by: { kind: "up", pid: status.pid } };
}

/**
 * A gw lb has no control socket to ask: it reloads on every save (and SIGHUP) and writes the
 * files itself. Either they already are this config's, or it has not taken it; never written here.
 */
async function checkLbFiles(config: Config, pid: number): Promise<InstanceFilesOutcome> {
  const stale = await staleInstances(config);
  if (stale.length === 0) return { written: [], by: { kind: "lb", pid } };
  throw new CliError(
    `gw lb (pid ${pid}) serves this config and writes its instance files when it reloads; those of ${stale.join(", ")} are not this config's yet, so nothing was written — it refused the edit (its log says why) or has not reloaded yet`,
    1,
    `fix the edit it refused, or let it reload (kill -HUP ${pid}), then run this again`,
  );
}

/**
 * `config` as a gw that was given it by another path (a linked directory) loads it: its files name
 * their auth dirs under that path, and must be compared as that gw writes them. As loaded here
 * when it no longer loads.
 */
async function servedAs(config: Config, path: string): Promise<Config> {
  if (path === config.file) return config;
  const loaded = (await loadConfig(path)).config;
  return loaded ? withInstanceKeys(loaded) : config;
}

/** A gw serving another config of this directory: its instances read the same instances/*.yaml, which this config's would replace. */
function anotherConfig(config: Config, who: string, served: string, stop: string): CliError {
  return new CliError(
    `${who} serves ${displayPath(served)} from this directory, and its instances read the files ${displayPath(config.file)} would write; nothing was written`,
    1,
    `stop it first (${stop}), or give this config a directory of its own`,
  );
}

/** The managed instances whose file is not the one `config` makes. */
async function staleInstances(config: Config): Promise<string[]> {
  const files = managedInstanceFiles(config);
  const current = files.map((f) => readOrNull(f.path));
  return files.filter((f, i) => current[i] !== instanceYaml(config, f.inst)).map((f) => f.inst.name);
}

const readOrNull = (path: string) => readSmallText(path) ?? null;
