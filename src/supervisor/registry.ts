// The gateways running for this user: one private file per running gw (`gw up` or `gw lb`) in
// ${XDG_CACHE_HOME:-~/.cache}/gw/running/, written once its load balancer listens and removed
// when it stops. cld reads it to find the config being served (instead of trusting whatever
// providers.toml sits in the current directory); `gw up` can name the gw that holds a busy port.
// A gw killed with SIGKILL leaves its file behind: entries are checked by pid + start time
// (/proc, as orphans.ts does), so a dead or reused pid never counts, and such files are removed.
//
// An entry a full disk refuses does not stop gw: `problem()` says it in one line (fs/why.ts
// writeProblem), and `write()` writes it once there is room (run.ts, fs/rewrite.ts).
//
// Not $XDG_RUNTIME_DIR: it is missing under su, cron, many ssh sessions and root services, so a
// gw and a cld started from different places would look in different directories.
import { readdir, readFile, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Env } from "../config/env.ts";
import { type RecordFile, recordFile } from "../fs/record-file.ts";
import { procInfo } from "./proc.ts";

export interface RunningGw {
  readonly pid: number;
  /** With the pid, the process's identity (clock ticks since boot, from /proc). */
  readonly startTime: number;
  readonly kind: "up" | "lb";
  /** Absolute path of the config it serves. */
  readonly config: string;
  /** Where its load balancer listens, as it reported it (may be a wildcard address). */
  readonly url: string;
  readonly demo: boolean;
  readonly startedAt: string;
}

type Registration = Pick<RunningGw, "kind" | "config" | "url" | "demo">;

/** ${XDG_CACHE_HOME:-~/.cache}/gw/running */
export function registryDir(env: Env = process.env): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache"), "gw", "running");
}

/** This process's entry in the registry: `write()` writes it again (true once it is, or once removed). */
export interface Registered extends RecordFile {
  /** Take the entry back (call it when stopping); a write after this writes nothing. */
  remove(): Promise<void>;
}

/** Record this process as a running gw. An entry the disk refuses is not an error: see `problem()`. */
export async function registerRunning(reg: Registration, env: Env = process.env): Promise<Registered> {
  const info = await procInfo(process.pid);
  const file = join(registryDir(env), `${process.pid}.json`);
  const entry: RunningGw = { pid: process.pid, startTime: info?.startTime ?? 0, ...reg, startedAt: new Date().toISOString() };
  const record = recordFile(file, `${JSON.stringify(entry)}\n`);
  let removed = false;
  record.write();
  return {
    file,
    remove: () => {
      removed = true;
      return rm(file, { force: true });
    },
    problem: () => (removed ? undefined : record.problem()),
    write: () => removed || record.write(),
  };
}

/** The gws running now, oldest first. Entries of processes that are gone are deleted on the way. */
export async function listRunning(env: Env = process.env): Promise<RunningGw[]> {
  const dir = registryDir(env);
  const names = await readdir(dir).catch(() => [] as string[]);
  const entries = await Promise.all(
    names.filter((n) => /^\d+\.json$/.test(n)).map(async (n) => {
      const entry = parse(await readFile(join(dir, n), "utf8").catch(() => ""));
      if (entry && (await alive(entry))) return entry;
      await rm(join(dir, n), { force: true });
      return null;
    }),
  );
  return entries.filter((e): e is RunningGw => e !== null).sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.pid - b.pid);
}

const WILDCARD = /^(0\.0\.0\.0|\[::\])$/;

/** The URL a client on this machine uses: a wildcard bind (0.0.0.0, ::) is reached on 127.0.0.1. */
export function clientUrl(entry: Pick<RunningGw, "url">): string {
  const u = new URL(entry.url);
  if (WILDCARD.test(u.hostname)) u.hostname = "127.0.0.1";
  return u.href.replace(/\/$/, "");
}

/** The status page of a gw serving at `url`, as a browser on this machine opens it. */
export const statusPageUrl = (url: string) => `${clientUrl({ url })}/_gw/`;

/** "/path/providers.toml (http://127.0.0.1:8145, pid 123)" — how messages name a running gw. */
const describeRunning = (e: RunningGw) => `${e.config} (${clientUrl(e)}, pid ${e.pid})`;

/** "2 gateways are running: A; B" — how a command that cannot tell which gw is meant says so. */
export const describeSeveral = (running: readonly RunningGw[]) => `${running.length} gateways are running: ${running.map(describeRunning).join("; ")}`;

// --- internal ---

function parse(text: string): RunningGw | null {
  try {
    const e = JSON.parse(text) as Partial<RunningGw>;
    const ok = Number.isInteger(e.pid) && typeof e.startTime === "number" && typeof e.config === "string" && typeof e.url === "string" && URL.canParse(e.url);
    return ok ? ({ ...e, kind: e.kind === "lb" ? "lb" : "up", demo: e.demo === true, startedAt: String(e.startedAt ?? "") } as RunningGw) : null;
  } catch {
    return null;
  }
}

async function alive(e: RunningGw): Promise<boolean> {
  const info = await procInfo(e.pid);
  return info !== null && info.startTime === e.startTime;
}
