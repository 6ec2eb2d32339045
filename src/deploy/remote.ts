// The host on the other end of `gw deploy`, reached with the system's ssh: the user's
// keys, agent and ~/.ssh/config apply, and BatchMode means nothing ever asks for a password
// (nor stores one). One master connection carries every step (ControlMaster), so a deploy pays
// for one handshake. $GW_SSH_CONFIG names another ssh config file (like ssh -F).
// Files travel through ssh itself (`cat >` there), not scp: OpenSSH ≥ 9's scp speaks SFTP and
// fails on hosts without an sftp-server subsystem ("Connection closed"), and its legacy protocol
// (scp -O) needs scp installed on the host and is slated to go. A shell and cat are all deploy
// assumes there anyway; the archive's checksum is proven on the host before it is used.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { BunFile } from "bun";
import { shellQuote } from "../cli/shell-word.ts";
import { CliError } from "../cli/errors.ts";

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Single quotes for a POSIX shell. */
export const sq = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export class Remote {
  private constructor(
    readonly destination: string,
    private readonly controlDir: string,
    private readonly configFile: string | undefined,
  ) {}

  /** `destination`: [user@]host, or an alias from ~/.ssh/config (which may set Port, User, IdentityFile…). */
  static async open(destination: string): Promise<Remote> {
    if (!Bun.which("ssh")) throw new CliError("gw deploy needs ssh on this machine", 1, "install OpenSSH's client");
    if (!/^([\w.-]+@)?[\w.-]+$/.test(destination) || destination.startsWith("-")) {
      throw new CliError(`"${destination}" is not a host to deploy to`, 1, "give [user@]host, or an alias from ~/.ssh/config (a port goes there: Port N)");
    }
    // Short: the control socket's path must fit a unix socket address.
    const controlDir = await mkdtemp(join(tmpdir(), "gwd-"));
    return new Remote(destination, controlDir, process.env.GW_SSH_CONFIG || undefined);
  }

  /** How the user reaches the host with ssh, for hints: with -F when $GW_SSH_CONFIG names the config deploy uses. */
  get ssh(): string {
    return `ssh ${this.configFile ? `-F ${sq(this.configFile)} ` : ""}${this.destination}`;
  }

  /**
   * `ssh HOST WORDS…` for the user to type. ssh joins its words with spaces for the host's shell,
   * which splits them again: a word that needs quoting there (a DIR with a space, a `$`) is quoted
   * for it, and the whole command once more for the shell the hint is pasted into.
   */
  typed(...words: string[]): string {
    const there = words.map(shellQuote).join(" ");
    return `${this.ssh} ${there === words.join(" ") ? there : shellQuote(there)}`;
  }

  /** Options every ssh call gets. */
  private options(): string[] {
    return [
      ...(this.configFile ? ["-F", this.configFile] : []),
      "-o", "BatchMode=yes",
      "-o", "ControlMaster=auto",
      "-o", `ControlPath=${join(this.controlDir, "%C")}`,
      "-o", "ControlPersist=120",
      "-o", "ConnectTimeout=15",
    ];
  }

  /** Run a POSIX sh script there (fed on stdin: the remote login shell may be any shell). */
  async sh(script: string): Promise<RunResult> {
    return exec(["ssh", ...this.options(), this.destination, "sh", "-s"], script);
  }

  /**
   * Copy local files into a remote directory, each streamed into `cat` there (private: umask 077;
   * the steps after set the modes gw needs). The command goes to the remote login shell, which
   * may be any shell: only single-quoted words, which sh, bash, zsh and fish read alike.
   */
  async copy(files: readonly string[], remoteDir: string): Promise<void> {
    for (const file of files) {
      const dest = `${remoteDir}/${basename(file)}`;
      const r = await exec(["ssh", ...this.options(), this.destination, "sh", "-c", sq('umask 077 && cat > "$1"'), "sh", sq(dest)], Bun.file(file));
      if (r.code !== 0) throw new CliError(`copying ${basename(file)} to ${this.destination}:${dest} failed: ${lastLine(r.stderr) || `exit ${r.code}`}`, 1, `check the host's free space there (${this.typed("df", "-h", remoteDir)})`);
    }
  }

  /** Forward a free local port to host:port as seen from the remote; returns the local port. */
  async forward(localPort: number, host: string, port: number): Promise<void> {
    const r = await exec(["ssh", ...this.options(), "-O", "forward", "-L", `127.0.0.1:${localPort}:${host}:${port}`, this.destination]);
    if (r.code !== 0) throw new CliError(`ssh could not forward a port to ${this.destination}: ${lastLine(r.stderr)}`, 1, "the host's sshd must allow TCP forwarding (AllowTcpForwarding)");
  }

  async close(): Promise<void> {
    await exec(["ssh", ...this.options(), "-O", "exit", this.destination]).catch(() => undefined);
    await rm(this.controlDir, { recursive: true, force: true });
  }
}

export const lastLine = (s: string) => s.trim().split("\n").filter(Boolean).pop() ?? "";

async function exec(argv: string[], stdin?: string | BunFile): Promise<RunResult> {
  const input = stdin === undefined ? "ignore" : typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin;
  const proc = Bun.spawn(argv, { stdin: input, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}
