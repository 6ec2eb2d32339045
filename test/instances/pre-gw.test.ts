// An instances/NAME.yaml gw did not write (the old setup's) is kept as NAME.yaml.pre-gw before gw
// first replaces it: its auth-dir may be the only record of where that instance's logins are, and
// gw migrate reads the kept copy once the live file is gw's.
import { expect, test } from "bun:test";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runGw, tempDir } from "../helpers/tmp.ts";
import { antigravityLogin, TWO_INSTANCES } from "../migrate/two-instances.ts";

/** The old setup: each instance's YAML names an auth dir outside the config's folder. */
function oldFolder(): { dir: string; team: string } {
  const dir = tempDir("gw-pre-gw-");
  const logins = tempDir("gw-pre-gw-logins-");
  writeFileSync(join(dir, "providers.toml"), TWO_INSTANCES);
  mkdirSync(join(dir, "instances"));
  const team = `port: 18646\nauth-dir: ${join(logins, "team")}\n`;
  writeFileSync(join(dir, "instances/team.yaml"), team);
  writeFileSync(join(dir, "instances/personal.yaml"), `port: 18647\nauth-dir: ${join(logins, "personal")}\n`);
  for (const [who, email] of [["team", "team@corp.com"], ["personal", "me@gmail.com"]]) {
    mkdirSync(join(logins, who!));
    writeFileSync(join(logins, who!, `antigravity-${email}.json`), antigravityLogin(email!));
  }
  const apps = ["team", "personal"].map((n) => ({ name: n, script: "cli-proxy-api", args: `-config instances/${n}.yaml` }));
  writeFileSync(join(dir, "ecosystem.config.js"), `module.exports = { apps: ${JSON.stringify(apps)} };`);
  return { dir, team };
}

test("gw gen keeps an old instances/NAME.yaml as NAME.yaml.pre-gw (0600, once) and says so; gw migrate still finds the logins its auth-dir named", async () => {
  const { dir, team } = oldFolder();
  const config = join(dir, "providers.toml");
  const gen = await runGw(["gen", "-c", config]);
  expect(gen.code).toBe(0);
  expect(gen.stderr).toContain("instances/team.yaml was not written by gw: its text is kept in instances/team.yaml.pre-gw (gw migrate reads the old auth-dir there)");
  expect(gen.stderr).toContain("instances/personal.yaml was not written by gw");
  const kept = join(dir, "instances/team.yaml.pre-gw");
  expect(readFileSync(kept, "utf8")).toBe(team);
  expect(statSync(kept).mode & 0o777).toBe(0o600);
  expect(readFileSync(join(dir, "instances/team.yaml"), "utf8")).toStartWith("# Written by gw");

  const migrate = await runGw(["migrate", "-c", config]);
  expect(migrate.stdout).not.toContain("none found");
  expect(migrate.stdout).toContain("would: antigravity-team@corp.com.json (antigravity) → auths/team/antigravity-team@corp.com.json");
  expect(migrate.stdout).toContain("would: antigravity-me@gmail.com.json (antigravity) → auths/personal/antigravity-me@gmail.com.json");
  expect(migrate.stdout).not.toContain("auths/personal/antigravity-team@corp.com.json");
  for (const out of [gen.stdout, gen.stderr, migrate.stdout, migrate.stderr]) expect(out).not.toContain("SECRETrefresh");

  // gw's own file is not kept, and the first copy is never replaced by a later one.
  writeFileSync(join(dir, "instances/team.yaml"), "port: 1\n");
  const again = await runGw(["gen", "-c", config]);
  expect(again.code).toBe(0);
  expect(again.stderr).not.toContain("was not written by gw");
  expect(readFileSync(kept, "utf8")).toBe(team);
});
