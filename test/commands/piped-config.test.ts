// A command that needs its config again after reading it — deploy copies the file to the host, a
// service runs `gw up -c FILE` at every start — refuses a config the shell hands over (`-c <(…)`,
// `-c /dev/stdin`) in one line with the fix: deploy crashed copying the spent pipe, and service
// install wrote a unit for /dev/fd/63 in WorkingDirectory=/dev/fd.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { MAIN } from "../helpers/supervisor.ts";
import { tempFiles } from "../helpers/tmp.ts";

const CONFIG = `[global]\nhost = "127.0.0.1"\nmain_port = 18145\n[instances.a]\nport = 18146\nproviders = [{ type = "antigravity" }]\n[routing]\n"m" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }]\n`;

/** `gw ARGS -c HOW` through bash, HOW being `<(cat FILE)` or `/dev/stdin < FILE`. */
async function viaShell(args: string, how: string, env: Record<string, string> = {}) {
  const dir = tempFiles({ "providers.toml": CONFIG, ssh_config: "Host nowhere\n  ProxyCommand false\n" });
  const line = `exec "$0" "$1" ${args} -c ${how.replaceAll("FILE", '"$2"')}`;
  const p = Bun.spawn(["bash", "-c", line, process.execPath, MAIN, join(dir, "providers.toml")], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1", GW_SSH_CONFIG: join(dir, "ssh_config"), ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, code };
}

for (const how of ["<(cat FILE)", "/dev/stdin < FILE"]) {
  test(`gw service install -c ${how}: refused in one line, no unit printed`, async () => {
    const r = await viaShell("service install", how);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^gw: -c \/dev\/(fd\/\d+|stdin) names what your shell hands over \(a pipe, stdin\), read once; the service runs gw up -c FILE at every start, and needs a file it can read again\n {2}save the config to a file/);
    expect(r.stderr).not.toContain("/dev/fd/.env");
  });

  test(`gw deploy HOST -c ${how}: refused in one line before ssh, no stack trace`, async () => {
    const r = await viaShell("deploy nowhere", how);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^gw: -c \/dev\/(fd\/\d+|stdin) names what your shell hands over \(a pipe, stdin\), read once; deploy copies the config file/);
    expect(r.stderr).not.toContain("cannot reach");
    expect(r.stderr).not.toContain("    at ");
  });
}
