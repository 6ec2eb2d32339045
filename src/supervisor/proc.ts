// Linux /proc facts the supervisor needs: a process's identity (start time survives exec,
// unlike its command line), its process group, and who listens on a port.
import { readFileSync } from "node:fs";
import { readdir, readFile, readlink } from "node:fs/promises";

interface ProcInfo {
  readonly pid: number;
  readonly pgid: number;
  /** Clock ticks since boot at which the process started: with the pid, a unique identity. */
  readonly startTime: number;
}

/** include/linux/sched.h: the task is exiting (set by do_exit before it releases memory and files). */
const PF_EXITING = 0x4;

/**
 * The fields of a /proc stat file after the command name, so fields[0] is the state (field 3 of
 * proc(5)); null when it cannot be read (no such process, no /proc, hidepid).
 */
function statFields(file: string): string[] | null {
  // Read synchronously: /proc answers from memory, and the thread-pool round trip of an async
  // read cost 2.5× the CPU — which counts, since each adopted instance is checked 4 times a second.
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) may contain spaces and parentheses: parse after the last ")".
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

export async function procInfo(pid: number): Promise<ProcInfo | null> {
  const fields = statFields(`/proc/${pid}/stat`);
  if (!fields) return null;
  const state = fields[0];
  if (state === "Z" || state === "X") return null; // exited, only waiting to be reaped
  // Dying: the kernel marks a task PF_EXITING as it starts to exit, before it closes its files.
  // A killed instance's port refuses connections from then on, while its state still reads
  // running until it is a zombie — on a busy machine for long enough that an LB asking "is it
  // gone?" after a refused connection was told no.
  if (Number(fields[6]) & PF_EXITING) return null;
  return { pid, pgid: Number(fields[2]), startTime: Number(fields[19]) };
}

/**
 * What the main thread of process `pid` does — the thread that runs a Bun program's event loop:
 * its state letter (R running, S sleeping, D in an uninterruptible wait, T/t stopped) and how
 * long it has wanted a CPU, in ms: the time it ran plus the time it waited on a run queue
 * (schedstat), so a thread that works on a machine too loaded to give it much of a core counts as
 * working — where schedstat is missing, the time it ran (user + system ticks). Its own, from
 * /proc/PID/task/PID/: the process's figures add up every thread, and a program whose event loop
 * is stuck in a system call while its JIT and GC threads work would read as working. Null unless
 * it is the process started at `startTime` (the pid may have been reused since it was recorded).
 */
export function mainThreadLook(pid: number, startTime: number): { state: string; wantedMs: number } | null {
  const fields = statFields(`/proc/${pid}/task/${pid}/stat`);
  if (!fields || Number(fields[19]) !== startTime) return null;
  const sched = schedMs(`/proc/${pid}/task/${pid}/schedstat`);
  return { state: fields[0] ?? "", wantedMs: sched ?? ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND };
}

/** Linux's USER_HZ: /proc counts CPU time and start times in these ticks per second. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** Run time plus run-queue wait of a schedstat file (`RUN_NS WAIT_NS SLICES`), in ms; null without one. */
function schedMs(file: string): number | null {
  try {
    const [run, wait] = readFileSync(file, "utf8").split(" ").map(Number);
    return Number.isFinite(run) && Number.isFinite(wait) ? (run! + wait!) / 1e6 : null;
  } catch {
    return null;
  }
}

/**
 * Whether process `pid` still runs (a zombie does not). Without /proc (macOS), kill(pid, 0):
 * a zombie counts as running there, and the exit of a child is delivered soon anyway.
 */
export async function processRuns(pid: number): Promise<boolean> {
  return process.platform === "linux" ? (await procInfo(pid)) !== null : pidExists(pid);
}

/** kill(pid, 0): a process has this pid (a zombie too). EPERM: alive, another user's. */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function cmdline(pid: number): Promise<string[]> {
  const raw = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  return raw.split("\0").filter(Boolean);
}

async function allPids(): Promise<number[]> {
  const names = await readdir("/proc").catch(() => [] as string[]);
  return names.filter((n) => /^\d+$/.test(n)).map(Number);
}

/** Live processes in process group `pgid`. */
export async function groupMembers(pgid: number): Promise<number[]> {
  const infos = await Promise.all((await allPids()).map(procInfo));
  return infos.filter((i): i is ProcInfo => i !== null && i.pgid === pgid).map((i) => i.pid);
}

/** The TCP sockets listening on `port` (any address), from /proc/net/tcp{,6}: inode → local address (hex). */
export async function listeningInodes(port: number): Promise<Map<string, string>> {
  const inodes = new Map<string, string>();
  for (const s of await listeningSockets()) if (s.port === port) inodes.set(s.inode, s.address);
  return inodes;
}

/** The TCP ports something listens on (any address): one read of the tables for many ports (a read costs ~4 ms here). */
export async function listeningPorts(): Promise<Set<number>> {
  return new Set((await listeningSockets()).map((s) => s.port));
}

/** Every listening TCP socket in /proc/net/tcp{,6}. */
async function listeningSockets(): Promise<{ port: number; inode: string; address: string }[]> {
  const out: { port: number; inode: string; address: string }[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(table, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      // f[1] = local "ADDR:PORT" in hex, f[3] = state (0A = LISTEN), f[9] = socket inode
      if (f.length > 9 && f[3] === "0A") out.push({ port: parseInt(f[1]!.split(":")[1]!, 16), inode: f[9]!, address: f[1]!.split(":")[0]! });
    }
  }
  return out;
}

/** A process's file descriptors that are the given sockets: inode → fd. */
export async function socketFds(pid: number | "self", inodes: ReadonlyMap<string, string>): Promise<Map<string, number>> {
  const fds = new Map<string, number>();
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
    const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ""));
    if (m && inodes.has(m[1]!)) fds.set(m[1]!, Number(fd));
  }
  return fds;
}

/** Pid of the process listening on a TCP port, when /proc lets us see it (null otherwise). */
export async function pidListeningOn(port: number): Promise<number | null> {
  const inodes = await listeningInodes(port);
  if (inodes.size === 0) return null;
  for (const pid of await allPids()) {
    if ((await socketFds(pid, inodes)).size > 0) return pid;
  }
  return null;
}

/**
 * Whether a process of group `pgid` listens on TCP `port`: what was started there, and not a
 * process that took the port first — another local user's, which gw cannot see into (its fds are
 * not ours to read), and whose server must not be handed an instance's key.
 */
export async function groupListensOn(pgid: number, port: number): Promise<boolean> {
  const inodes = await listeningInodes(port);
  if (inodes.size === 0) return false;
  // The leader first: it is the listener unless a wrapper started it, and asking it spares the
  // scan of every process that finding the group's other members takes.
  if ((await socketFds(pgid, inodes)).size > 0) return true;
  for (const pid of await groupMembers(pgid)) {
    if (pid !== pgid && (await socketFds(pid, inodes)).size > 0) return true;
  }
  return false;
}

/** Signal a whole process group; a group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * The PM2 app a process runs as: PM2 starts its apps with its own environment, which carries the
 * app's `name` and `pm_id`. Undefined when the process is no PM2 app (or /proc does not tell).
 */
export async function pm2AppOf(pid: number): Promise<{ name: string; id: number } | undefined> {
  const raw = await readFile(`/proc/${pid}/environ`, "utf8").catch(() => "");
  const env = new Map(raw.split("\0").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)] as const));
  const id = Number(env.get("pm_id"));
  const name = env.get("name");
  return name && /^\d+$/.test(env.get("pm_id") ?? "") ? { name, id } : undefined;
}
