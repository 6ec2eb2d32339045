// Issue 17: `gw deploy` uses the system ssh with the user's keys and agent, and never asks for (or
// stores) a password. Against a real sshd that offers password logins, a deploy whose key the host
// does not take ends with one line and the fix; ssh's password prompt is never shown — proven with
// SSH_ASKPASS forced, which makes any prompt ssh would show run a recording program, terminal or not.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Sshd, startSshd } from "../helpers/sshd.ts";
import { MAIN } from "../helpers/supervisor.ts";
import { tempDir } from "../helpers/tmp.ts";

let sshd: Sshd;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  sshd = await startSshd({ passwords: true });
  dir = tempDir("gw-deploy-nopass-");
  // A key this host has never seen, in a copy of the test host's ssh config.
  const key = join(dir, "stranger_key");
  expect(Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key]).exitCode).toBe(0);
  const config = join(dir, "ssh_config");
  writeFileSync(config, readFileSync(sshd.sshConfig, "utf8").replace(/IdentityFile .*/, `IdentityFile ${key}`));
  const askpass = join(dir, "askpass");
  writeFileSync(askpass, `#!/bin/sh\necho "$*" >> "${join(dir, "asked")}"\necho not-the-password\n`);
  chmodSync(askpass, 0o755);
  env = { GW_SSH_CONFIG: config, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: "force", DISPLAY: ":0", NO_COLOR: "1" };
  // Its ports are never bound: the deploy stops at ssh.
  writeFileSync(
    join(dir, "providers.toml"),
    `[global]\nmain_port = 18145\n[instances.a]\nport = 18146\nproviders = [{ type = "antigravity" }]\n[routing]\n"m" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }]\n`,
  );
}, 60_000);

afterAll(async () => {
  await sshd?.stop();
});

async function run(argv: string[]) {
  const proc = Bun.spawn(argv, { cwd: dir, env: { ...process.env, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

test("a host that does not take the key: one line with the fix, no password prompt, nothing on the host", async () => {
  // The setup does prompt: plain ssh with these settings asks for the password.
  await run(["ssh", "-F", env.GW_SSH_CONFIG!, "-o", "NumberOfPasswordPrompts=1", sshd.alias, "true"]);
  expect(readFileSync(join(dir, "asked"), "utf8")).toContain("password");
  writeFileSync(join(dir, "asked"), "");

  for (const extra of [["--dry-run"], []]) {
    const r = await run([process.execPath, MAIN, "deploy", sshd.alias, "-c", join(dir, "providers.toml"), ...extra]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`gw: cannot reach ${sshd.alias} over ssh: `);
    // the ssh config deploy was given ($GW_SSH_CONFIG) is in the command to type, or the alias leads nowhere
    const ssh = `ssh -F '${env.GW_SSH_CONFIG}' ${sshd.alias}`;
    expect(r.stderr).toContain(`"${ssh}" must log in without a password prompt (a key or the agent); accept its host key once with: ${ssh}\n`);
    expect(r.stderr).not.toContain("    at "); // no stack trace
  }
  expect(readFileSync(join(dir, "asked"), "utf8")).toBe("");
  expect(readdirSync(sshd.home)).toEqual([]);
}, 60_000);
