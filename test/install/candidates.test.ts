import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { candidates, FILES, type NameLists } from "../../src/install/candidates.ts";
import { runGw, tempDir } from "../helpers/tmp.ts";

const commands = ["up", "logs", "restart", "login", "cld", "install"];
const seen: (string | undefined)[] = [];
const lists: NameLists = {
  routes: async (c) => (seen.push(c), ["opus4.6", "g3f"]),
  instances: async (c) => (seen.push(c), ["official", "relay"]),
  // official logs in to antigravity and codex; relay holds API keys only; anything else is unknown
  providers: async (c, name) => (seen.push(c), ({ official: ["antigravity", "codex"], relay: ["openai-compatibility"] } as Record<string, string[]>)[name]),
  flags: async (command) => (command === "up" ? ["-c", "--config", "-d", "--detach", "-h", "--help"] : ["-h", "--help"]),
};
const complete = (...words: string[]) => candidates(words, commands, lists);

describe("completion candidates", () => {
  test("gw: commands, then instance names for logs / restart / login, flags after a dash", async () => {
    expect(await complete("gw", "")).toEqual(commands);
    expect(await complete("gw", "login", "")).toEqual(["official", "relay"]);
    expect(await complete("gw", "restart", "-c", "x.toml", "")).toEqual(["official", "relay"]);
    expect(seen.at(-1)).toBe("x.toml");
    expect(await complete("gw", "up", "")).toEqual([]);
    expect(await complete("gw", "up", "--")).toContain("--detach");
    expect(await complete("gw", "install", "-")).toEqual(["-h", "--help"]);
  });

  test("gw logs offers gw too, gw login NAME the providers, gw route explain, gw help the commands; nothing once the arguments are typed", async () => {
    expect(await complete("gw", "logs", "")).toEqual(["gw", "official", "relay"]);
    expect(await complete("gw", "logs", "-n", "5", "")).toEqual(["gw", "official", "relay"]);
    expect(await complete("gw", "logs", "official", "")).toEqual([]);
    expect(await complete("gw", "restart", "official", "")).toEqual([]);
    // what the instance can log in to (the Gemini CLI login has no provider type: always), not every login
    expect(await complete("gw", "login", "official", "")).toEqual(["antigravity", "codex", "codex-device", "gemini"]);
    expect(await complete("gw", "login", "-c", "x.toml", "official", "")).toContain("codex");
    expect(await complete("gw", "login", "relay", "")).toEqual(["gemini"]);
    expect(await complete("gw", "login", "unknown", "")).toContain("kimi"); // a name the file does not declare: every login
    expect(await complete("gw", "login", "official", "codex", "")).toEqual([]);
    expect(await complete("gw", "route", "")).toEqual(["explain"]);
    expect(await complete("gw", "route", "explain", "")).toEqual([FILES]); // a body file (or a model name, which the shell cannot know)
    expect(await complete("gw", "help", "")).toEqual(commands);
    expect(await complete("gw", "help", "up", "")).toEqual([]);
  });

  test("gw COMMAND -<TAB>: the flags that command takes (the installed binary answers), never gw's internal ones", async () => {
    const flags = async (...words: string[]) => (await runGw(["_complete", "--", "gw", ...words], { cwd: tempDir(), env: { GW_CONFIG: "" } })).stdout.trim().split("\n");
    expect(await flags("deploy", "--")).toEqual(expect.arrayContaining(["--dir", "--service", "--dry-run", "-c", "--config", "--help"]));
    expect(await flags("service", "install", "--")).toContain("--write");
    expect(await flags("up", "-")).toEqual(expect.arrayContaining(["-d", "--detach", "--port", "--json"]));
    expect(await flags("upgrade", "--")).toContain("--json");
    expect(await flags("login", "--")).toContain("--project-id");
    // flags a command does not take are not offered: gw version -c / gw install --config are errors
    expect(await flags("version", "--")).toEqual(["--json", "-h", "--help"]);
    expect(await flags("install", "--")).not.toContain("--config");
    // gw down's --after-crash is the watchdog's, not the user's
    expect(await flags("down", "--")).not.toContain("--after-crash");
  });

  test("a config file after -c / --config is the shell's to complete", async () => {
    expect(await complete("gw", "up", "-c", "")).toEqual([FILES]);
    expect(await complete("cld", "--config", "pro")).toEqual([FILES]);
  });

  test("gw usage --by offers its groupings, not file names; the word after --by or --since is no directory", async () => {
    expect(await complete("gw", "usage", "--by", "")).toEqual(["day", "route", "target", "model", "client", "agent", "decision", "category", "rule"]);
    expect(await complete("gw", "usage", "--by", "route", "")).toEqual([FILES]);
    expect(await complete("gw", "usage", "--since", "7d", "")).toEqual([FILES]);
  });

  test("paths elsewhere too: gw upgrade PATH, gw init DIR, gw usage DIR…, gw route explain FILE, and --prefix, --ecosystem, --from", async () => {
    for (const words of [["upgrade", "new"], ["init", ""], ["usage", "logs/"], ["usage", "a", "b"], ["route", "explain", "req"], ["install", "--prefix", "../bi"], ["migrate", "--ecosystem", ""], ["cliproxy", "install", "--from", "cli"]]) {
      expect([words, await complete("gw", ...words)]).toEqual([words, [FILES]]);
    }
    // Not where a word is no path: route's action, a remote --dir, a port.
    expect(await complete("gw", "route", "")).toEqual(["explain"]);
    expect(await complete("gw", "deploy", "--dir", "")).toEqual([]);
  });

  test("cld (and gw cld): modes, then route names after cp, nothing once claude's words start", async () => {
    for (const head of [["cld"], ["/home/u/.local/bin/cld"], ["gw", "cld"]]) {
      expect(await complete(...head, "")).toEqual(["cp", "ag", "official"]);
      expect(await complete(...head, "cp", "")).toEqual(["opus4.6", "g3f"]);
      expect(await complete(...head, "-y", "cp", "g")).toEqual(["opus4.6", "g3f"]);
      expect(await complete(...head, "cp", "g3f", "")).toEqual([]);
      expect(await complete(...head, "ag", "")).toEqual([]);
      expect(await complete(...head, "cp", "-")).toContain("--yolo");
    }
    expect(await complete("cld", "-c", "mine.toml", "cp", "")).toEqual(["opus4.6", "g3f"]);
    expect(seen.at(-1)).toBe("mine.toml");
  });

  test("gw run: the agents of the registry, then route names, nothing once the agent's words start", async () => {
    expect(await complete("gw", "run", "")).toEqual(["claude", "codex", "gemini", "opencode", "qwen"]);
    expect(await complete("gw", "run", "-y", "")).toEqual(["claude", "codex", "gemini", "opencode", "qwen"]);
    expect(await complete("gw", "run", "codex", "")).toEqual(["opus4.6", "g3f"]);
    expect(await complete("gw", "run", "-y", "gemini", "-c", "mine.toml", "g")).toEqual(["opus4.6", "g3f"]);
    expect(seen.at(-1)).toBe("mine.toml");
    expect(await complete("gw", "run", "codex", "g3f", "")).toEqual([]);
    expect(await complete("gw", "run", "codex", "--", "")).toEqual([]);
    expect(await complete("gw", "run", "codex", "-")).toContain("--yolo");
    expect(await complete("gw", "run", "nobody", "")).toEqual([]);
  });
});

test("gw _complete reads the instance's providers from the file: gw login official TAB offers its logins", async () => {
  const dir = tempDir("gw-complete-login-");
  writeFileSync(join(dir, "providers.toml"), `[instances.official]\nport = 8146\nproviders = [{ type = "claude" }, { type = "antigravity" }]\n[instances.relay]\nport = 8147\nproviders = [{ type = "openai-compatibility", api_keys = ["k"] }]\n`);
  const ask = async (...words: string[]) => (await runGw(["_complete", "--", "gw", ...words], { cwd: dir })).stdout.trim().split("\n");
  expect(await ask("login", "official", "")).toEqual(["antigravity", "claude", "gemini"]);
  expect(await ask("login", "relay", "")).toEqual(["gemini"]);
});
