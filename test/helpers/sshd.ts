// A real sshd for `gw deploy` tests: OpenSSH's server on a free loopback port with a throwaway
// host key and client key and its own config; a temp dir stands in for the remote home (HOME is
// set by sshd). As root it runs in its own mount namespace whose /etc/systemd/system is a temp
// dir, so a system unit the deploy writes lands there, not on this machine.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./ports.ts";
import { until } from "./supervisor.ts";
import { tempDir } from "./tmp.ts";

const SSHD = "/usr/sbin/sshd";

export interface Sshd {
  readonly dir: string;
  /** The remote user's home. */
  readonly home: string;
  /** Where units written to /etc/systemd/system end up (root), or null (a user unit goes under home). */
  readonly systemUnits: string | null;
  /** The ssh config alias to deploy to, and the file that defines it ($GW_SSH_CONFIG). */
  readonly alias: string;
  readonly sshConfig: string;
  ssh(command: string): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

const run = async (argv: string[]) => {
  const p = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
};

/**
 * `sftp: false`: no sftp subsystem, as on hosts that only run commands (scp of OpenSSH ≥ 9 speaks SFTP and fails there).
 * `passwords: true`: the server also offers password logins, as most hosts do (a client that allows prompts asks for one).
 */
export async function startSshd(opts: { sftp?: boolean; passwords?: boolean } = {}): Promise<Sshd> {
  const dir = tempDir("gw-sshd-");
  const home = join(dir, "home");
  const units = join(dir, "system-units");
  mkdirSync(home);
  mkdirSync(units);
  for (const k of ["host_key", "client_key"]) {
    const r = await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "gw-test", "-f", join(dir, k)]);
    if (r.code !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
  }
  writeFileSync(join(dir, "authorized_keys"), await Bun.file(join(dir, "client_key.pub")).text());
  chmodSync(join(dir, "authorized_keys"), 0o600);
  const port = await freePort();
  // Not os.userInfo(): without $USER Bun names root "unknown".
  const user = Bun.spawnSync(["id", "-un"]).stdout.toString().trim();
  const root = process.getuid?.() === 0;
  writeFileSync(
    join(dir, "sshd_config"),
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(dir, "host_key")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      "StrictModes no",
      "UsePAM no",
      `PasswordAuthentication ${opts.passwords ? "yes" : "no"}`,
      `KbdInteractiveAuthentication ${opts.passwords ? "yes" : "no"}`,
      "PermitRootLogin prohibit-password",
      "AllowTcpForwarding yes",
      ...(opts.sftp === false ? [] : ["Subsystem sftp internal-sftp"]),
      `SetEnv HOME=${home}`,
      "",
    ].join("\n"),
  );
  const hostKey = (await Bun.file(join(dir, "host_key.pub")).text()).split(" ").slice(0, 2).join(" ");
  writeFileSync(join(dir, "known_hosts"), `[127.0.0.1]:${port} ${hostKey}\n`);
  const sshConfig = join(dir, "ssh_config");
  writeFileSync(
    sshConfig,
    `Host gw-test-host\n  HostName 127.0.0.1\n  Port ${port}\n  User ${user}\n  IdentityFile ${join(dir, "client_key")}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${join(dir, "known_hosts")}\n  StrictHostKeyChecking yes\n  LogLevel ERROR\n`,
  );
  if (root) mkdirSync("/run/sshd", { recursive: true }); // sshd's privilege separation directory
  const daemon = `${SSHD} -D -e -f ${join(dir, "sshd_config")}`;
  const argv = root ? ["unshare", "--mount", "--propagation", "private", "sh", "-c", `mount --bind ${units} /etc/systemd/system && exec ${daemon}`] : ["sh", "-c", `exec ${daemon}`];
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: Bun.file(join(dir, "sshd.log")) });
  const ssh = (command: string) => run(["ssh", "-F", sshConfig, "-o", "BatchMode=yes", "gw-test-host", command]);
  try {
    await until(async () => (await ssh("true")).code === 0 || proc.exitCode !== null, 20_000, () => "sshd did not accept a login");
    if (proc.exitCode !== null) throw new Error("sshd exited");
  } catch (e) {
    proc.kill("SIGKILL");
    throw new Error(`${(e as Error).message}: ${await Bun.file(join(dir, "sshd.log")).text()}`);
  }
  return {
    dir,
    home,
    systemUnits: root ? units : null,
    alias: "gw-test-host",
    sshConfig,
    ssh,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}
