// Before a service is installed: what would fail under it that works in this shell. A service
// manager starts gw with little of the user's environment (the unit carries PATH and the
// CLIProxyAPI settings, serviceEnv), so a ${VAR} exported only in a shell profile, or a command
// found only through something else, would break the service at boot, long after this command.
import { formatProblem, loadConfig } from "../config/index.ts";
import type { Env } from "../config/env.ts";
import type { Config } from "../config/types.ts";
import { launchFor } from "./launch.ts";
import { proxiesWithPassword, type UnitHost } from "./service.ts";

/**
 * One line per thing that would fail under the service. `config` is the one the command loaded in
 * this `shell` (without errors: loadValidConfig refused those), so every error the service's
 * environment gives is the service's only; the file is read again just for that environment.
 */
export async function serviceWarnings(config: Config, shell: Env, host: UnitHost): Promise<string[]> {
  // What systemd (user units) and launchd give every service, plus what the unit carries.
  const service: Env = { HOME: host.home, USER: host.user, LOGNAME: host.user, ...host.env };
  const out: string[] = [];
  for (const k of proxiesWithPassword(shell)) {
    out.push(`under the service: $${k} is left out of the unit, since it holds a password the unit would show; the service goes out without that proxy unless you give it one (systemctl edit, or launchctl setenv)`);
  }
  const there = await loadConfig(config.file, { env: service });
  for (const p of there.problems) {
    if (p.severity === "error") out.push(`${formatProblem(p)}  — under the service only: it does not read your shell's environment; put the variable in ${config.dir}/.env`);
  }
  if (!there.config) return out;
  for (const inst of config.instances) {
    if (!inst.managed) continue;
    const now = launchFor(config, inst, shell);
    const then = launchFor(there.config, inst, service);
    if ("error" in then) out.push(`under the service: ${then.error}${"argv" in now ? ` (here it is ${now.argv[0]})` : shell.SUDO_USER ? ` (sudo replaced your PATH: sudo env PATH="$PATH" gw service install …)` : ""}`);
    else if ("argv" in then && "argv" in now && then.argv[0] !== now.argv[0]) out.push(`instance '${inst.name}' would run ${then.argv[0]} under the service, ${now.argv[0]} here`);
  }
  return out;
}
