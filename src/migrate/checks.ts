// What `gw check` and `gw up` tell someone coming from the old setup, beyond the file itself:
// where requests for models no route names go, and OAuth providers whose auth dir holds no login
// (with the command that fills it), and a .env planted where an instance runs. Reads the auth
// dirs and looks in instances/NAME; never writes.

import { formatProblem } from "../config/index.ts";
import { formatPath, indexPositions } from "../config/positions.ts";
import { type Config, OAUTH_PROVIDERS, type Problem } from "../config/types.ts";
import { readSmallText } from "../fs/read-small.ts";
import { credentialsIn, instancesFor } from "./credentials.ts";
import { plantedEnvProblems } from "../supervisor/instance-cwd.ts";
import { typed } from "../supervisor/self.ts";

interface Unrouted {
  readonly instance: string;
  /** How it was chosen. */
  readonly by: "default_instance" | "first instance";
}

/** The instance that gets requests for models no route names, or null without instances. */
export function unrouted(config: Config): Unrouted | null {
  const name = config.global.lb.defaultInstance;
  if (!name) return null;
  return { instance: name, by: config.global.lb.defaultInstanceSet ? "default_instance" : "first instance" };
}

export function describeUnrouted(u: Unrouted | null): string {
  if (!u) return "requests for models no route names have no instance to go to";
  const how = u.by === "first instance" ? "the first instance; set [global] default_instance = \"NAME\" to choose another" : "[global] default_instance";
  return `requests for models no route names go to instance "${u.instance}" (${how})`;
}

/**
 * A warning for each OAuth provider of an instance gw starts whose auth dir has no credential of
 * that type, at the provider's place in the file.
 */
export async function emptyAuthDirs(config: Config): Promise<Problem[]> {
  const text = readSmallText(config.file) ?? ""; // loaded a moment ago; read as the loader reads it, never waited on
  const positions = indexPositions(text);
  const old = await credentialsIn(config.dir);
  const problems: Problem[] = [];
  for (const inst of config.instances) {
    if (!inst.managed) continue;
    const have = new Set((await credentialsIn(inst.authDir)).map((c) => c.type));
    for (const p of inst.providers) {
      if (!(OAUTH_PROVIDERS as readonly string[]).includes(p.type) || have.has(p.type)) continue;
      const path = ["instances", inst.name, "providers", p.index];
      const { line, col } = positions.find(path);
      const waiting = old.filter((c) => instancesFor(config, c.type).includes(inst) && c.type === p.type).length;
      const migrate = waiting ? ` — or copy the old ${p.type} login${waiting === 1 ? "" : "s"} beside providers.toml: ${typed("gw migrate --apply")}` : "";
      problems.push({
        severity: "warning",
        file: config.file,
        line,
        col,
        path: formatPath(path),
        message: `instance "${inst.name}" has no ${p.type} login in ${inst.authDir}, so its ${p.type} routes will fail`,
        hint: `log in: ${typed(`gw login ${inst.name} ${p.type}`)}${migrate}`,
      });
    }
  }
  return problems;
}

/**
 * What `gw up` says before starting: a .env planted where an instance runs (errors: that instance
 * will not start, the others do), OAuth providers without a login (warnings), where unrouted models go.
 */
export async function setupNotes(config: Config): Promise<{ errors: string[]; warnings: string[]; info: string }> {
  const say = (ps: Problem[]) => ps.map((p) => formatProblem(p, config.dir));
  return { errors: say(plantedEnvProblems(config)), warnings: say(await emptyAuthDirs(config)), info: describeUnrouted(unrouted(config)) };
}
