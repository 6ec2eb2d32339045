// `gw service install`: what runs `gw up` for this config at boot or login — a systemd unit on
// Linux, a launchd LaunchAgent on macOS. Pure: the text and where it goes; the command writes it.
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import { CliError } from "../cli/errors.ts";
import type { Env } from "../config/env.ts";
import { NOTIFY_ENV } from "./notify.ts";
import { gwPaths } from "./paths.ts";
import { DETACHED_ENV, selfCommand } from "./self.ts";
import { DEFAULT_TIMING } from "./timing.ts";

interface UnitPlan {
  /** Where --write puts it: the system unit dir for root, the user's otherwise; ~/Library/LaunchAgents on macOS. */
  readonly path: string;
  readonly text: string;
  /** The commands that enable it, to print after writing. */
  readonly enable: string;
  /** The commands that make a running service take a rewritten file (enabling does not). */
  readonly update: string;
  /** Directories the service manager needs before it starts gw (launchd opens the log there itself). */
  readonly dirs: readonly string[];
  /**
   * The part of the text that says which config it serves (`up -c FILE`, whatever gw runs it): an
   * older file there that holds it is this service's, to be rewritten; one that does not is
   * another's — a second config's gw, or a service of the user's own.
   */
  readonly serves: string;
}

export interface UnitHost {
  readonly platform: NodeJS.Platform;
  /** Root gets a system unit, anyone else a user unit. */
  readonly root: boolean;
  readonly uid: number;
  readonly home: string;
  readonly user: string;
  /** How to run this gw: the binary, or bun and main.ts (selfCommand()). */
  readonly self: readonly string[];
  /** The environment the service's gw gets from the installing user (serviceEnv). */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * What a service manager would not give gw but the user's shell does, and which decides the
 * programs the instances run: PATH (a `command` or CLIProxyAPI found through ~/.local/bin,
 * ~/go/bin, /opt/homebrew/bin…), and the settings that point at CLIProxyAPI. The names are
 * carried, not the programs they resolve to now: a newer CLIProxyAPI installed on that PATH later
 * is the one the service starts next, as in the shell. PATH keeps only absolute directories (an
 * empty or relative entry would mean the service's working directory).
 */
function serviceEnv(env: Env): Record<string, string> {
  const dirs = [...new Set((env.PATH ?? "").split(":").filter((d) => d.startsWith("/") && !CONTROL.test(d)))];
  const out: Record<string, string> = { PATH: dirs.length ? dirs.join(":") : "/usr/local/bin:/usr/bin:/bin" };
  for (const k of ["GW_CLIPROXY", "XDG_DATA_HOME", ...NETWORK_VARS]) {
    const v = env[k];
    if (v && !CONTROL.test(v) && !withPassword(k, v)) out[k] = v;
  }
  return out;
}

/**
 * How the user's shell reaches the network: its proxies (a relay behind a company proxy, the
 * instances' providers) and the CAs it trusts (a relay with the company's certificate). Without
 * them a service's gw fails where the same gw in the shell works.
 */
const NETWORK_VARS = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR"] as const;

/** A proxy with its password in the URL: the unit (printed, and readable where it is written) must not carry it. */
const withPassword = (name: string, value: string) => /_proxy$/i.test(name) && !/^no_proxy$/i.test(name) && value.includes("@");

/** The proxy settings of `env` the unit leaves out because they hold a password. */
export const proxiesWithPassword = (env: Env): string[] => NETWORK_VARS.filter((k) => env[k] && withPassword(k, env[k]!));

export const thisHost = (env: Env = process.env): UnitHost => ({
  platform: process.platform,
  root: process.getuid?.() === 0,
  uid: process.getuid?.() ?? 0,
  home: homedir(),
  user: loginName(env),
  self: selfCommand(),
  env: serviceEnv(env),
});

/** The user's login name: Bun's userInfo() says "unknown" when $USER is unset (cron, env -i, some containers). */
function loginName(env: Env): string {
  const named = env.USER || env.LOGNAME || userInfo().username;
  if (named !== "unknown") return named;
  try {
    return Bun.spawnSync(["id", "-un"], { stdout: "pipe", stderr: "ignore" }).stdout.toString().trim() || named;
  } catch {
    return named; // no `id` on PATH: a spawn error, not a stack trace for the user
  }
}

/**
 * gw up's exit status when another gw already runs this config (or holds its port): starting
 * again cannot help until someone stops that one, so the systemd unit names it in
 * RestartPreventExitStatus= instead of retrying every RestartSec until its start limit.
 */
export const ANOTHER_GW_EXIT = 3;

/** The LaunchAgent's label (and its file's name): `local.` is the prefix for a user's own agents. */
const LAUNCHD_LABEL = "local.gw";

/**
 * The service manager that started this gw as its service: systemd gives a Type=notify unit's
 * process NOTIFY_SOCKET; launchd names the job in XPC_SERVICE_NAME. Undefined from a terminal.
 */
export function startedAsService(env: Env): "systemd" | "launchd" | undefined {
  if (env[NOTIFY_ENV]) return "systemd";
  return env.XPC_SERVICE_NAME === LAUNCHD_LABEL ? "launchd" : undefined;
}

/** The command that starts the installed service again (root has the system unit, as install writes it). */
export function serviceStart(service: "systemd" | "launchd"): string {
  return service === "launchd" ? `launchctl kickstart gui/${process.getuid?.() ?? 0}/${LAUNCHD_LABEL}` : `${systemctl(process.getuid?.() === 0)} restart gw`;
}

const systemctl = (root: boolean) => (root ? "systemctl" : "systemctl --user");

/** Where the unit goes: the system unit dir for root, the user's otherwise; the user's LaunchAgents on macOS. */
export function unitPath(host: Pick<UnitHost, "root" | "home" | "platform">): string {
  if (host.platform === "darwin") return join(host.home, "Library/LaunchAgents", `${LAUNCHD_LABEL}.plist`);
  return host.root ? "/etc/systemd/system/gw.service" : join(host.home, ".config/systemd/user/gw.service");
}

/** The service for this platform: launchd on macOS, systemd elsewhere. */
export function serviceUnit(configFile: string, dir: string, shutdownGraceMs: number, host: UnitHost = thisHost()): UnitPlan {
  return (host.platform === "darwin" ? launchdAgent : systemdUnit)(configFile, dir, shutdownGraceMs, host);
}

/** Seconds the manager waits after SIGTERM: gw lets streams finish, then stops its instances. */
const stopSeconds = (shutdownGraceMs: number) => Math.ceil((shutdownGraceMs + DEFAULT_TIMING.killWaitMs) / 1000) + 15;

const CONTROL = /[\u0000-\u001f\u007f]/;

/** A value a unit or plist can carry, or a one-line refusal naming it. */
function unitSafe(value: string, kind: string): string {
  if (CONTROL.test(value) || (kind === "systemd unit" && value.endsWith("\\"))) {
    throw new CliError(`a ${kind} cannot carry this path (a control character${kind === "systemd unit" ? " or a trailing backslash" : ""}): ${JSON.stringify(value)}`, 1, "move providers.toml to a plainer directory");
  }
  return value;
}

// systemd's own escaping (systemd.unit(5), systemd.service(5), systemd.exec(5)), not a shell's:
// - every value goes through specifier expansion: a literal % is %%;
// - Exec lines are split into words with "…" quoting and C escapes (\\, \"); the program word is
//   taken literally, but arguments undergo $VAR / ${VAR} expansion: a literal $ there is $$.
//   (\$ is no escape at all: systemd ignores it with a warning.)
// - Environment= takes such words too (VAR=value, quoted whole), with no $ expansion at all.
// - a line break, or a backslash ending a line, cannot be carried by any of these values.

const specifiers = (s: string) => s.replaceAll("%", "%%");

/** One word of ExecStart=: the program (`$` literal) or an argument (`$` doubled). Environment= words are like programs. */
export function execWord(word: string, program: boolean): string {
  let w = specifiers(word).replace(/[\\"]/g, "\\$&");
  if (!program) w = w.replaceAll("$", "$$$$");
  return word === "" || /[\s"'\\;]/.test(word) ? `"${w}"` : w;
}

export function systemdUnit(configFile: string, dir: string, shutdownGraceMs: number, host: UnitHost = thisHost()): UnitPlan {
  const { root } = host;
  const safe = (v: string) => unitSafe(v, "systemd unit");
  const exec = [...host.self, "up", "-c", configFile].map((w, i) => execWord(safe(w), i === 0)).join(" ");
  const serves = ` ${["up", "-c", configFile].map((w) => execWord(safe(w), false)).join(" ")}\n`;
  const env = Object.entries(host.env).map(([k, v]) => `Environment=${execWord(`${k}=${safe(v)}`, true)}\n`).join("");
  const text = `[Unit]
Description=gw gateway for ${specifiers(safe(configFile))}
After=network-online.target
Wants=network-online.target

[Service]
# gw says when it serves (READY=1), and an upgrade's successor says it is the main process now
# (MAINPID=, from a process of this unit's cgroup: hence NotifyAccess=all).
Type=notify
NotifyAccess=all
WorkingDirectory=${specifiers(safe(dir))}
# The installing user's PATH: instance commands are found as in their shell (gw service install again after changing it).
${env}ExecStart=${exec}
ExecReload=/bin/kill -HUP $MAINPID
# Only gw gets SIGTERM: it stops the LB gracefully, then its instances' process groups.
KillMode=mixed
TimeoutStopSec=${stopSeconds(shutdownGraceMs)}
Restart=on-failure
RestartSec=2
# ${ANOTHER_GW_EXIT}: another gw runs this config (started by hand): retrying would only repeat that.
RestartPreventExitStatus=${ANOTHER_GW_EXIT}

[Install]
WantedBy=${root ? "multi-user.target" : "default.target"}
`;
  const ctl = systemctl(root);
  const enable = `${ctl} daemon-reload && ${ctl} enable --now gw${root ? "" : "   (and once: loginctl enable-linger " + host.user + ")"}`;
  return { path: unitPath(host), text, enable, update: `${ctl} daemon-reload && ${ctl} restart gw`, dirs: [], serves };
}

/** Text for an XML element: `<`, `&` and `>` (so no `]]>` either) as entities. */
const xml = (s: string) => unitSafe(s, "launchd plist").replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
const str = (s: string) => `<string>${xml(s)}</string>`;

/**
 * A LaunchAgent (launchd.plist(5)): gw starts at login and again after a crash (not after a clean
 * `gw down`), in the config's directory, with the user's PATH. Its output goes to logs/gw.log,
 * where gw itself writes (so gw logs, not only the system log, shows a crash), and gw is told it
 * has no terminal. launchd has no reload verb: `gw reload` (or kill -HUP) does it. ProcessType
 * Interactive: launchd otherwise throttles an agent's CPU and I/O, and gw is on every request's path.
 */
export function launchdAgent(configFile: string, dir: string, shutdownGraceMs: number, host: UnitHost = thisHost()): UnitPlan {
  const { gwLog, logsDir } = gwPaths(dir);
  const words = (list: readonly string[]) => list.map((a) => `\t\t${str(a)}\n`).join("");
  const args = words([...host.self, "up", "-c", configFile]);
  const env = Object.entries({ ...host.env, [DETACHED_ENV]: "1" }).map(([k, v]) => `\t\t<key>${xml(k)}</key>\n\t\t${str(v)}\n`).join("");
  const text = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
\t<key>Label</key>
\t${str(LAUNCHD_LABEL)}
\t<key>ProgramArguments</key>
\t<array>
${args}\t</array>
\t<key>WorkingDirectory</key>
\t${str(dir)}
\t<key>EnvironmentVariables</key>
\t<dict>
${env}\t</dict>
\t<key>RunAtLoad</key>
\t<true/>
\t<key>KeepAlive</key>
\t<dict>
\t\t<key>SuccessfulExit</key>
\t\t<false/>
\t</dict>
\t<key>ThrottleInterval</key>
\t<integer>5</integer>
\t<key>ExitTimeOut</key>
\t<integer>${stopSeconds(shutdownGraceMs)}</integer>
\t<key>ProcessType</key>
\t<string>Interactive</string>
\t<key>StandardOutPath</key>
\t${str(gwLog)}
\t<key>StandardErrorPath</key>
\t${str(gwLog)}
</dict>
</plist>
`;
  const path = unitPath(host);
  const enable = `launchctl bootstrap gui/${host.uid} ${shellWord(path)}   (stop: launchctl bootout gui/${host.uid}/${LAUNCHD_LABEL}; reload the config: gw reload)`;
  const update = `launchctl bootout gui/${host.uid}/${LAUNCHD_LABEL}; launchctl bootstrap gui/${host.uid} ${shellWord(path)}`;
  return { path, text, enable, update, dirs: [logsDir], serves: words(["up", "-c", configFile]) };
}

/** A path to paste into a shell. */
const shellWord = (s: string) => (/^[\w./~-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);
