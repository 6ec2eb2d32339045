// `gw service install`: a systemd unit that runs `gw up` for this config on this machine.
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import { selfCommand } from "./self.ts";
import { DEFAULT_TIMING } from "./timing.ts";

export interface UnitPlan {
  /** Where --write puts it: the system unit dir for root, the user's otherwise. */
  readonly path: string;
  readonly text: string;
  /** The commands that enable it, to print after writing. */
  readonly enable: string;
}

const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `"${a.replace(/(["\\$`])/g, "\\$1")}"`);

export interface UnitHost {
  /** Root gets a system unit, anyone else a user unit. */
  readonly root: boolean;
  readonly home: string;
  readonly user: string;
}

/** Where the unit goes: the system unit dir for root, the user's otherwise. */
export const unitPath = (host: Pick<UnitHost, "root" | "home">) => (host.root ? "/etc/systemd/system/gw.service" : join(host.home, ".config/systemd/user/gw.service"));

export const thisHost = (): UnitHost => ({ root: process.getuid?.() === 0, home: homedir(), user: userInfo().username });

export function systemdUnit(configFile: string, dir: string, shutdownGraceMs: number, host: UnitHost = thisHost()): UnitPlan {
  const { root } = host;
  // systemd must not SIGKILL the group before gw has let streams finish and stopped its instances.
  const stopSecs = Math.ceil((shutdownGraceMs + DEFAULT_TIMING.killWaitMs) / 1000) + 15;
  const exec = [...selfCommand("up", "-c", configFile)].map(quote).join(" ");
  const text = `[Unit]
Description=gw gateway for ${configFile}
After=network-online.target
Wants=network-online.target

[Service]
# gw says when it serves (READY=1), and an upgrade's successor says it is the main process now
# (MAINPID=, from a process of this unit's cgroup: hence NotifyAccess=all).
Type=notify
NotifyAccess=all
WorkingDirectory=${dir}
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
