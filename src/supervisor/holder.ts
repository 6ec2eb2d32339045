// Which gw holds a port, when another gw does: its config and how to stop it. A demo started in
// another folder is otherwise invisible from a folder with its own providers.toml.
// (Found from the holder's own traces — its pid file in the demo's directory, its working
// directory, its -c argument — until gw keeps a per-user registry of running gateways.)
import { readlink } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { controlJson } from "./control.ts";
import { demoDir } from "./demo.ts";
import { runningGw } from "./orphans.ts";
import { gwPaths } from "./paths.ts";
import { cmdline } from "./proc.ts";
import type { StatusReport } from "./status.ts";

export interface GwHolder {
  readonly pid: number;
  /** The config it serves (the demo's demo.toml for the demo). */
  readonly file: string;
  readonly demo: boolean;
}

type Env = Record<string, string | undefined>;

export async function gwHolding(pid: number, env: Env): Promise<GwHolder | null> {
  const dirs = new Set([demoDir(env)]);
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => null);
  if (cwd) {
    dirs.add(cwd);
    const argv = await cmdline(pid);
    const i = argv.findIndex((a) => a === "-c" || a === "--config");
    const file = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith("--config="))?.slice("--config=".length);
    if (file) dirs.add(dirname(resolve(cwd, file)));
  }
  for (const dir of dirs) {
    const paths = gwPaths(dir);
    if ((await runningGw(paths))?.pid !== pid) continue;
    const status = await controlJson<StatusReport>(paths, "/status").catch(() => null);
    return { pid, file: status?.file ?? dir, demo: status?.demo ?? dir === demoDir(env) };
  }
  return null;
}
