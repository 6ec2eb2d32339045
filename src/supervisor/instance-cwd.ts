// An instance's working directory, instances/NAME: gw's own directory (fs/private.ts), with no
// .env in it. CLIProxyAPI loads ./.env of its working directory into its environment, and there
// GITSTORE_GIT_URL, PGSTORE_DSN or OBJECTSTORE_* make it keep its config and OAuth logins in a
// remote store — someone else's, when a cloned folder ships instances/a/.env. gw writes none
// there, and cld's trust covers providers.toml and the .env beside it, not this one: so anything
// by that name (a file, a link, even to nothing yet) keeps the instance from starting.
//
// Why not run CLIProxyAPI in a directory gw makes fresh instead: that directory is also where it
// writes ./logs (its request logs, and logging-to-file set through the YAML's extras) and where
// GITSTORE_LOCAL_PATH / PGSTORE_LOCAL_PATH default to; users have instances/NAME/logs from the old
// setup and from gw so far, and an instance adopted at an upgrade runs on in its old directory. A
// fresh one per start would scatter or drop those logs, or mean emptying a directory in the
// folder before each start; one look for a name costs nothing and moves nothing.
import { lstatSync } from "node:fs";
import { join } from "node:path";
import { formatPath, indexPositions } from "../config/positions.ts";
import type { Config, Problem } from "../config/types.ts";
import { ensurePrivateSubdir, UnsafePathError } from "../fs/private.ts";
import { readSmallText } from "../fs/read-small.ts";
import { instanceCwd } from "./paths.ts";

const WHAT = "CLIProxyAPI loads a .env in its working directory into its environment (GITSTORE_*, PGSTORE_* or OBJECTSTORE_* there send its logins to a remote store); gw writes none there";
const FIX = "remove it: gw passes instances its own environment";

/** A .env where an instance runs: one line naming it, what CLIProxyAPI would do with it, and the fix. */
class PlantedEnvError extends UnsafePathError {
  constructor(path: string) {
    super(path, "");
    this.message = `${path}: ${WHAT} — ${FIX}`;
  }
}

/** Make instances/NAME (private, no link) and refuse it when it holds a .env (PlantedEnvError). */
export function ensureInstanceCwd(cwd: string): void {
  ensurePrivateSubdir(cwd);
  const env = plantedEnv(cwd);
  if (env) throw new PlantedEnvError(env);
}

/** `gw check`'s error for each instance gw starts whose directory holds a .env, at the instance's place in the file. */
export function plantedEnvProblems(config: Config): Problem[] {
  const positions = indexPositions(readSmallText(config.file) ?? "");
  const problems: Problem[] = [];
  for (const inst of config.instances) {
    const env = inst.managed ? plantedEnv(instanceCwd(config.dir, inst.name)) : undefined;
    if (!env) continue;
    const path = ["instances", inst.name];
    problems.push({ severity: "error", file: config.file, ...positions.find(path), path: formatPath(path), message: `${env}: ${WHAT}`, hint: FIX });
  }
  return problems;
}

// --- internal ---

/** The .env's path when anything stands under that name (lstat: a link to nothing counts). */
function plantedEnv(cwd: string): string | undefined {
  const env = join(cwd, ".env");
  try {
    return lstatSync(env, { throwIfNoEntry: false }) ? env : undefined;
  } catch {
    return undefined; // instances/NAME a file, or unreadable: ensurePrivateSubdir says so at the start
  }
}
