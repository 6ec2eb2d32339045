// Is a port free before we hand it to an instance (or the LB)? A busy port gets a message that
// names the process holding it.
import { createServer } from "node:net";
import { pm2StopCommands } from "../migrate/pm2-stop.ts";
import { cmdline, pidListeningOn, pm2AppOf } from "./proc.ts";

/** True when nothing can bind host:port right now (someone listens there). */
export function portBusy(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "EADDRINUSE" || err.code === "EACCES"));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(false)));
  });
}

/**
 * "by pid 123 (cli-proxy-api)" when /proc tells, else "". A PM2 app (the old setup's way of
 * running instances and lb.js) is named, with the command that stops it.
 */
export async function describeHolder(port: number): Promise<string> {
  const pid = await pidListeningOn(port);
  if (pid === null) return "";
  const argv = await cmdline(pid);
  const name = argv[0]?.split("/").pop();
  const app = await pm2AppOf(pid);
  const pm2 = app ? `, PM2 app "${app}" of the old setup — stop it for good: ${pm2StopCommands([app]).join(" && ")}` : "";
  return name ? ` by pid ${pid} (${name}${pm2})` : ` by pid ${pid}${pm2 ? ` (${pm2.slice(2)})` : ""}`;
}

/** A port that was free a moment ago (the kernel's pick for port 0). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen({ port: 0, host }, () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}
