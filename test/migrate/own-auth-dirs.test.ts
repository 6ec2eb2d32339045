// Old instances that each had their own auth-dir kept their accounts apart: `gw migrate` gives a
// login found through an old instance's YAML only to the gw instance that YAML was (by its
// instances/NAME.yaml, or its port), and only the shared folder's logins to every instance of the type.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runGw, tempDir } from "../helpers/tmp.ts";
import { antigravityLogin as login, TWO_INSTANCES as PROVIDERS } from "./two-instances.ts";

/** Two old instances, each with its own auth-dir, started by PM2 with -config instances/NAME.yaml. */
function oldFolder(): string {
  const dir = tempDir("gw-migrate-apart-");
  writeFileSync(join(dir, "providers.toml"), PROVIDERS);
  mkdirSync(join(dir, "instances"));
  writeFileSync(join(dir, "instances/team.yaml"), "port: 18646\nauth-dir: ./auth-team\n");
  writeFileSync(join(dir, "instances/personal.yaml"), "port: 18647\nauth-dir: ./auth-personal\n");
  mkdirSync(join(dir, "auth-team"));
  mkdirSync(join(dir, "auth-personal"));
  writeFileSync(join(dir, "auth-team/antigravity-team@corp.com.json"), login("team@corp.com"));
  writeFileSync(join(dir, "auth-personal/antigravity-me@gmail.com.json"), login("me@gmail.com"));
  const apps = [
    { name: "team", script: "cli-proxy-api", args: "-config instances/team.yaml" },
    { name: "personal", script: "cli-proxy-api", args: "-config instances/personal.yaml" },
  ];
  writeFileSync(join(dir, "ecosystem.config.js"), `module.exports = { apps: ${JSON.stringify(apps)} };`);
  return dir;
}

const migrate = (dir: string, ...args: string[]) => runGw(["migrate", "-c", join(dir, "providers.toml"), ...args]);

describe("gw migrate keeps the accounts of old instances with their own auth-dir apart", () => {
  test("each login goes only to the instance whose old YAML named its folder; the dry run says so", async () => {
    const dir = oldFolder();
    const r = await migrate(dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("would: antigravity-team@corp.com.json (antigravity) → auths/team/antigravity-team@corp.com.json");
    expect(r.stdout).toContain("would: antigravity-me@gmail.com.json (antigravity) → auths/personal/antigravity-me@gmail.com.json");
    expect(r.stdout).not.toContain("auths/personal/antigravity-team@corp.com.json");
    expect(r.stdout).not.toContain("auths/team/antigravity-me@gmail.com.json");
    expect(r.stdout).toContain('auth-team was old instance "team"\'s own auth dir: its logins go to team only');
    expect(r.stdout).toContain('auth-personal was old instance "personal"\'s own auth dir: its logins go to personal only');

    await migrate(dir, "--apply");
    expect(existsSync(join(dir, "auths/team/antigravity-team@corp.com.json"))).toBe(true);
    expect(existsSync(join(dir, "auths/personal/antigravity-me@gmail.com.json"))).toBe(true);
    expect(existsSync(join(dir, "auths/team/antigravity-me@gmail.com.json"))).toBe(false);
    expect(existsSync(join(dir, "auths/personal/antigravity-team@corp.com.json"))).toBe(false);
  });

  test("matched by the YAML's port (a PM2 cwd with config.yaml and auth-dir: .); the shared folder's logins still go to every instance of the type", async () => {
    const dir = oldFolder();
    for (const [name, port] of [["a", 18646], ["b", 18647]] as const) {
      mkdirSync(join(dir, `old-${name}`));
      writeFileSync(join(dir, `old-${name}/config.yaml`), `port: ${port}\nauth-dir: .\n`);
      writeFileSync(join(dir, `old-${name}/antigravity-${name}@corp.com.json`), login(`${name}@corp.com`));
    }
    writeFileSync(join(dir, "antigravity-shared@corp.com.json"), login("shared@corp.com"));
    const apps = [
      { name: "cp-a", script: "../cli-proxy-api", cwd: "old-a" },
      { name: "cp-b", script: "../cli-proxy-api", cwd: "old-b" },
    ];
    writeFileSync(join(dir, "ecosystem.config.js"), `module.exports = { apps: ${JSON.stringify(apps)} };`);
    const r = await migrate(dir, "--json");
    const steps = JSON.parse(r.stdout).credentials as { credential: string; instance?: string; action: string }[];
    const where = (c: string) => steps.filter((s) => s.credential === c).map((s) => `${s.instance}:${s.action}`);
    expect(where("antigravity-a@corp.com.json")).toEqual(["team:copy"]);
    expect(where("antigravity-b@corp.com.json")).toEqual(["personal:copy"]);
    expect(where("antigravity-shared@corp.com.json")).toEqual(["team:copy", "personal:link"]);
  });

  test("an old instance's login of a type its gw instance has no provider for is not handed to another instance", async () => {
    const dir = oldFolder();
    writeFileSync(join(dir, "providers.toml"), PROVIDERS.replace('[instances.personal]\nport = 18647\nproviders = [ { type = "antigravity" } ]', '[instances.personal]\nport = 18647\nproviders = [ { type = "antigravity" }, { type = "claude" } ]'));
    writeFileSync(join(dir, "auth-team/claude-boss@corp.com.json"), JSON.stringify({ type: "claude", refresh_token: "sk-ant-ort01-z" }));
    const r = await migrate(dir);
    expect(r.stdout).not.toContain("auths/personal/claude-boss@corp.com.json");
    expect(r.stdout).toContain('claude-boss@corp.com.json (claude): a login of old instance "team", and gw\'s instance team has no provider of type claude — not copied (add { type = "claude" } to its providers)');
  });
});
