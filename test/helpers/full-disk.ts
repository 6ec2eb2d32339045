// A real full file system for tests, unprivileged: `unshare -Urm` gives a user + mount namespace
// in which a normal user may mount a size-limited tmpfs. A shell stays in the namespace and runs
// the commands the test sends it (gw up, gw reload, …), one at a time, so they see the tmpfs;
// the test itself reaches the tmpfs through /proc/<that shell>/root, which needs no privilege
// (the namespace is this user's), to fill it, free it and read what gw wrote. The network
// namespace is shared: gw and its instances listen on loopback as anywhere else.
import { afterAll } from "bun:test";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";

export interface FullDisk {
  /** Where the tmpfs is mounted, as the commands inside see it. */
  readonly mount: string;
  /** `path` (under mount) as the test sees it from outside the namespace. */
  view(path: string): string;
  /** Run `argv` inside the namespace (cwd: the mount), to its end. */
  run(argv: string[], env?: Record<string, string | undefined>): Promise<{ stdout: string; stderr: string; code: number }>;
  /** Fill the tmpfs to its last byte (a filler file); the bytes written. */
  fill(): number;
  /** Delete the filler: the room is back. */
  free(): void;
  /** End the shell; the namespace lives on while a process started in it does. */
  close(): Promise<void>;
}

/**
 * A `size` tmpfs mounted at `mount` (made if missing) in a new namespace; `ctl` is a directory on
 * the real disk for the commands' output. Fails with one clear line when unshare cannot do it.
 */
export async function fullDisk(mount: string, ctl: string, size = "4m", env: Record<string, string | undefined> = process.env): Promise<FullDisk> {
  mkdirSync(mount, { recursive: true });
  mkdirSync(ctl, { recursive: true });
  // Each input line is `<id> <command>`; the answer is `<id> <exit code>` on stdout.
  const script = `mount -t tmpfs -o size=${size},mode=0700 tmpfs "$1" || exit 97
echo ready
while IFS= read -r line; do
  id=\${line%% *}; cmd=\${line#* }
  (cd "$1" && exec sh -c "$cmd") >"$2/$id.out" 2>"$2/$id.err" </dev/null
  echo "$id $?"
done`;
  let shell: Subprocess<"pipe", "pipe", "pipe">;
  try {
    shell = Bun.spawn(["unshare", "-Urm", "sh", "-c", script, "sh", mount, ctl], { env, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  } catch (e) {
    throw new Error(`full-disk tests need unshare (util-linux) to mount a small tmpfs unprivileged: ${(e as Error).message}`);
  }
  const lines = answers(shell.stdout);
  const first = await lines.next();
  if (first !== "ready") {
    const err = await new Response(shell.stderr).text();
    throw new Error(`full-disk tests need \`unshare -Urm\` and a tmpfs mount in it (user namespaces allowed?): ${err.trim() || `exit ${await shell.exited}`}`);
  }
  const root = `/proc/${shell.pid}/root`;
  const filler = join(mount, ".filler");
  let n = 0;
  let queue: Promise<unknown> = Promise.resolve();
  return {
    mount,
    view: (p) => root + p,
    run(argv, runEnv) {
      const id = String(++n);
      const envPart = Object.entries(runEnv ?? {})
        .map(([k, v]) => (v === undefined ? `-u ${k}` : `${k}=${q(v)}`))
        .join(" ");
      const cmd = `exec env ${envPart} ${argv.map(q).join(" ")}`;
      const done = queue.then(async () => {
        shell.stdin.write(`${id} ${cmd}\n`);
        shell.stdin.flush();
        const answer = await lines.next();
        const code = Number(answer?.split(" ")[1] ?? NaN);
        const read = (ext: string) => readFileSync(join(ctl, `${id}.${ext}`), "utf8");
        return { stdout: read("out"), stderr: read("err"), code };
      });
      queue = done.catch(() => {});
      return done;
    },
    fill() {
      const fd = openSync(root + filler, "a");
      let written = 0;
      try {
        for (const size of [1 << 16, 4096, 512, 1]) {
          const chunk = Buffer.alloc(size, 0x78);
          try {
            for (;;) written += writeSync(fd, chunk);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
          }
        }
      } finally {
        closeSync(fd);
      }
      return written;
    },
    free: () => rmSync(root + filler, { force: true }),
    async close() {
      shell.stdin.end();
      await shell.exited;
    },
  };
}

/** `fullDisk` for one test file: each disk it makes is closed after the file (as cld.ts gatewayForFile stops its gateway). */
export function fullDisksForFile(): typeof fullDisk {
  const disks: FullDisk[] = [];
  afterAll(async () => {
    for (const d of disks.splice(0)) await d.close();
  });
  return async (...args) => {
    const disk = await fullDisk(...args);
    disks.push(disk);
    return disk;
  };
}

// --- internal ---

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** The shell's answer lines, one per next(); undefined once it has ended. */
function answers(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  const dec = new TextDecoder();
  let buf = "";
  return {
    async next(): Promise<string | undefined> {
      for (;;) {
        const nl = buf.indexOf("\n");
        if (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          return line;
        }
        const { done, value } = await reader.read();
        if (done) return undefined;
        buf += dec.decode(value, { stream: true });
      }
    },
  };
}
