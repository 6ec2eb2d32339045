// What deploy tells the user to type, and what it refuses to send. A hint `ssh HOST CMD` passes
// through two shells — the user's, then the host's, which re-splits what ssh joined with spaces —
// so it is run here through both: a fake ssh that hands its words to sh -c, as sshd does.
import { expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Remote } from "../../src/deploy/remote.ts";
import { MAIN } from "../helpers/supervisor.ts";
import { tempDir, tempFiles } from "../helpers/tmp.ts";

test("a hint naming a DIR with spaces, quotes and $ runs on the host with that DIR as one word", async () => {
  const bin = tempDir("gw-deploy-typed-");
  writeFileSync(join(bin, "ssh"), '#!/bin/sh\nshift\nexec sh -c "$*"\n'); // ssh HOST WORDS…: the host's shell gets them joined
  writeFileSync(join(bin, "tail"), '#!/bin/sh\nprintf "%s\\n" "$@"\n');
  for (const f of ["ssh", "tail"]) chmodSync(join(bin, f), 0o755);
  const saved = process.env.GW_SSH_CONFIG;
  delete process.env.GW_SSH_CONFIG;
  const remote = await Remote.open("host");
  try {
    for (const dir of ["/srv/my gw", "/srv/it's $HOME `id` $(id)", "/home/u/gw"]) {
      const hint = remote.typed("tail", "-n", "50", `${dir}/logs/gw.log`);
      const r = Bun.spawnSync(["bash", "-c", hint], { env: { PATH: `${bin}:/usr/bin:/bin` } });
      expect(r.stdout.toString()).toBe(`-n\n50\n${dir}/logs/gw.log\n`);
    }
    expect(remote.typed("tail", "-n", "50", "/home/u/gw/logs/gw.log")).toBe("ssh host tail -n 50 /home/u/gw/logs/gw.log"); // plain when it can be
  } finally {
    await remote.close();
    if (saved !== undefined) process.env.GW_SSH_CONFIG = saved;
  }
});

test("--dir with a newline (it would add lines to the host's answers: os=Darwin) is refused before ssh, in one line", async () => {
  const dir = tempFiles({
    "providers.toml": `[global]\nmain_port = 18145\n[instances.a]\nport = 18146\nproviders = [{ type = "antigravity" }]\n[routing]\n"m" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }]\n`,
    ssh_config: "Host nowhere\n  ProxyCommand false\n",
  });
  for (const bad of ["/x/nl\nos=Darwin", "gw\tx", "gw\r"]) {
    const p = Bun.spawn([process.execPath, MAIN, "deploy", "nowhere", "-c", join(dir, "providers.toml"), "--dir", bad, "--dry-run"], {
      env: { ...process.env, GW_SSH_CONFIG: join(dir, "ssh_config"), NO_COLOR: "1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(`gw: --dir ${JSON.stringify(bad)} holds a control character (a newline, a tab…): no directory on the host is named so\n  give the directory's name without it\n`);
  }
});
