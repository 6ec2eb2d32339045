// Is a port free before we hand it to an instance (or the LB)? A busy port gets a message that
// names the process holding it.
import { readFileSync } from "node:fs";
import { readlink } from "node:fs/promises";
import { resolve } from "node:path";
import { createServer } from "node:net";
import { samePath } from "../fs/same-path.ts";
import { oneLine } from "../cli/one-line.ts";
import { misreadName, pm2StopCommands } from "../migrate/pm2-stop.ts";
import { cmdline, pidListeningOn, pm2AppOf } from "./proc.ts";

/**
 * Why gw cannot bind host:port right now: "busy" (someone listens there) or "denied" (this user
 * may not: a port below 1024 without root); undefined when it can.
 */
export function portTaken(port: number, host = "127.0.0.1"): Promise<"busy" | "denied" | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "EACCES" ? "denied" : err.code === "EADDRINUSE" ? "busy" : undefined));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(undefined)));
  });
}

/** The words for a "denied" port, whose holder is nobody. */
export const deniedPort = () => `may not be opened by this user: only root may listen below ${unprivilegedStart()}`;

/** The first port anyone may listen on: 1024 unless the Linux sysctl says otherwise. */
function unprivilegedStart(): number {
  try {
    const n = Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : 1024;
  } catch {
    return 1024;
  }
}

/**
 * "by pid 123 (cli-proxy-api)" when /proc tells, else "". A PM2 app (the old setup's way of
 * running instances and lb.js) is named, with the command that stops it.
 */
export async function describeHolder(port: number): Promise<string> {
  const pid = await pidListeningOn(port);
  return pid === null ? "" : describePid(pid);
}

/** describeHolder's words for the process `pid`. */
async function describePid(pid: number): Promise<string> {
  const argv = await cmdline(pid);
  const name = argv[0]?.split("/").pop();
  const app = await pm2AppOf(pid);
  // By its id when pm2 would misread its name (`pm2 delete all` removes every app).
  const pm2 = app ? `, PM2 app ${oneLine(JSON.stringify(app.name))} of the old setup — stop it for good: ${pm2StopCommands([misreadName(app.name) ? app.id : app.name]).join(" && ")}` : "";
  return name ? ` by pid ${pid} (${name}${pm2})` : ` by pid ${pid}${pm2 ? ` (${pm2.slice(2)})` : ""}`;
}

/**
 * Who listens on `port` reading `file` as its config (`-config FILE`, as the old setup's PM2 apps
 * run CLIProxyAPI): "by pid N (…)", else undefined. CLIProxyAPI reloads its config when the file
 * changes, so gw writing that file would change a running process gw does not own.
 */
export async function configReaderOn(port: number, file: string): Promise<string | undefined> {
  const pid = await pidListeningOn(port);
  if (pid === null) return undefined;
  const argv = await cmdline(pid);
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => "/");
  const reads = argv.some((a, i) => {
    const flag = /^--?config=/.exec(a);
    const value = flag ? a.slice(flag[0].length) : /^--?config$/.test(argv[i - 1] ?? "") ? a : undefined;
    return value !== undefined && samePath(resolve(cwd, value), file); // a config reached through a linked folder is the same file
  });
  return reads ? describePid(pid) : undefined;
}

/** A port that was free a moment ago (the kernel's pick for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen({ port: 0, host: "127.0.0.1" }, () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}
