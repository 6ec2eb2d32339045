// `gw service install`: a systemd unit that runs `gw up` for this config on this machine.
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import { CliError } from "../cli/errors.ts";
import { selfCommand } from "./self.ts";
import { DEFAULT_TIMING } from "./timing.ts";

export interface UnitPlan {
  /** Where --write puts it: the system unit dir for root, the user's otherwise. */
  readonly path: string;
  readonly text: string;
  /** The commands that enable it, to print after writing. */
  readonly enable: string;
}

// systemd's own escaping (systemd.unit(5), systemd.service(5)), not a shell's:
// - every value goes through specifier expansion: a literal % is %%;
// - Exec lines are split into words with "…" quoting and C escapes (\\, \"); the program word is
//   taken literally, but arguments undergo $VAR / ${VAR} expansion: a literal $ there is $$.
//   (\$ is no escape at all: systemd ignores it with a warning.)
// - a line break, or a backslash ending a line, cannot be carried by any of these values.

const specifiers = (s: string) => s.replaceAll("%", "%%");

/** One word of ExecStart=: the program (`$` literal) or an argument (`$` doubled). */
export function execWord(word: string, program: boolean): string {
  let w = specifiers(word).replace(/[\\"]/g, "\\$&");
  if (!program) w = w.replaceAll("$", "$$$$");
  return word === "" || /[\s"'\\;]/.test(word) ? `"${w}"` : w;
}

/** A path a unit file can carry, or a one-line refusal naming it. */
function unitSafe(path: string): string {
  if (/[\u0000-\u001f\u007f]/.test(path) || path.endsWith("\\")) {
    throw new CliError(`a systemd unit cannot carry this path (a control character or a trailing backslash): ${JSON.stringify(path)}`, 1, "move providers.toml to a plainer directory");
  }
  return path;
}

export interface UnitHost {
  /** Root gets a system unit, anyone else a user unit. */
  readonly root: boolean;
  readonly home: string;
  readonly user: string;
  /** How to run this gw: the binary, or bun and main.ts (selfCommand()). */
  readonly self: readonly string[];
}

/** Where the unit goes: the system unit dir for root, the user's otherwise. */
export const unitPath = (host: Pick<UnitHost, "root" | "home">) => (host.root ? "/etc/systemd/system/gw.service" : join(host.home, ".config/systemd/user/gw.service"));

export const thisHost = (): UnitHost => ({ root: process.getuid?.() === 0, home: homedir(), user: userInfo().username, self: selfCommand() });

export function systemdUnit(configFile: string, dir: string, shutdownGraceMs: number, host: UnitHost = thisHost()): UnitPlan {
  const { root } = host;
  // systemd must not SIGKILL the group before gw has let streams finish and stopped its instances.
  const stopSecs = Math.ceil((shutdownGraceMs + DEFAULT_TIMING.killWaitMs) / 1000) + 15;
  const exec = [...host.self, "up", "-c", configFile].map((w, i) => execWord(unitSafe(w), i === 0)).join(" ");
  const text = `[Unit]
Description=gw gateway for ${specifiers(unitSafe(configFile))}
After=network-online.target
Wants=network-online.target

[Service]
# gw says when it serves (READY=1), and an upgrade's successor says it is the main process now
# (MAINPID=, from a process of this unit's cgroup: hence NotifyAccess=all).
Type=notify
NotifyAccess=all
WorkingDirectory=${specifiers(unitSafe(dir))}
ExecStart=${exec}
ExecReload=/bin/kill -HUP $MAINPID
# Only gw gets SIGTERM: it stops the LB gracefully, then its instances' process groups.
KillMode=mixed
TimeoutStopSec=${stopSecs}
Restart=on-failure
RestartSec=2

[Install]
WantedBy=${root ? "multi-user.target" : "default.target"}
`;
  const path = unitPath(host);
  const ctl = root ? "systemctl" : "systemctl --user";
  const enable = `${ctl} daemon-reload && ${ctl} enable --now gw${root ? "" : "   (and once: loginctl enable-linger " + host.user + ")"}`;
  return { path, text, enable };
}
