// The CLI as a newcomer meets it: typos get a suggestion, `gw help` works, internal commands and
// flags stay out of sight, and colour codes only reach a terminal that wants them.
import { describe, expect, test } from "bun:test";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { agentNames } from "../../src/run/agents/index.ts";
import { runGw, tempFiles } from "../helpers/tmp.ts";

const ESC = "\x1b[";
const MAIN = join(import.meta.dir, "../../src/main.ts");
/** No NO_COLOR, CI or TEST in the environment: what a user's shell has. */
const plainEnv = { NO_COLOR: undefined, CI: undefined, TEST: undefined, TERM: "xterm-256color" };

/** Run gw on a pseudo-terminal (util-linux `script`), as a user at a terminal would. */
async function onTerminal(args: string[], env: Record<string, string | undefined>) {
  const cmd = [process.execPath, MAIN, ...args].map((a) => `'${a}'`).join(" ");
  const proc = Bun.spawn(["script", "-qec", cmd, "/dev/null"], { env: { ...process.env, ...plainEnv, ...env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, , code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, code };
}

describe("commands", () => {
  test("a misspelled command gets a suggestion and the list of commands, without the hidden ones", async () => {
    const r = await runGw(["stauts"]);
    expect(r.code).toBe(1);
    const [first, second] = r.stderr.split("\n");
    expect(first).toBe('gw: unknown command "stauts" — did you mean "status"?');
    expect(second).toStartWith("  commands: up, down, status, restart, reload, logs, gen, check, init, login, cliproxy, migrate, cld, run, install, mock, usage, service, lb, route");
    expect(r.stderr).not.toContain("_complete");
    const far = await runGw(["xyzzy"]);
    expect(far.stderr).toStartWith('gw: unknown command "xyzzy"\n');
  });

  test("a command's second word typed alone is named with its first: gw explain is gw route explain", async () => {
    for (const word of ["explain", "explian"]) {
      const r = await runGw([word, "opus4.6"]);
      expect([r.code, r.stderr.split("\n")[0]]).toEqual([1, `gw: unknown command "${word}" — did you mean "route explain"?`]);
    }
  });

  test("gw help, gw help COMMAND and COMMAND --help", async () => {
    const all = await runGw(["help"]);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain("COMMANDS");
    expect(all.stdout).toMatch(/^\s+cliproxy\s+install CLIProxyAPI/m);
    expect(all.stdout).not.toContain("_complete");
    // gw --help's USAGE line, where one looks for a way to ask about one command, names help too
    const usage = (await runGw(["--help"])).stdout.split("\n").find((l) => l.startsWith("USAGE "));
    expect(usage).toMatch(/^USAGE gw up\|down\|.*\|version\|help$/);
    expect(all.stdout).toMatch(/^\s+help\s+the commands, or one command's flags/m);
    const down = await runGw(["help", "down"]);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain("--json");
    expect((await runGw(["down", "--help"])).stdout).toBe(down.stdout);
    expect((await runGw(["help", "stauts"])).stderr).toContain('did you mean "status"?');
  });

  test("gw help cld|run|mock: the help those commands print themselves (citty knows none of their words)", async () => {
    for (const [topic, first] of [["cld", "cld — start Claude Code"], ["run", "gw run — start a coding agent"], ["mock", "gw mock — a faithful stand-in"]] as const) {
      const r = await runGw(["help", topic]);
      expect(r.code).toBe(0);
      expect(r.stdout).toStartWith(first);
      expect(r.stdout).toBe((await runGw([topic, "--help"])).stdout);
    }
  });

  test("bare gw: the commands, then where to start (exit 1)", async () => {
    const onPath = tempFiles({ gw: "#!/bin/sh\n" }); // an installed gw: hints typed "gw …" run
    chmodSync(join(onPath, "gw"), 0o755);
    const r = await runGw([], { env: { PATH: `${onPath}:/usr/bin:/bin` } });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("COMMANDS");
    expect(r.stdout).toEndWith("Start here: gw up (with no providers.toml here: a demo), or gw init (a providers.toml and .env to fill in)\n");
  });

  test("bare gw from a checkout with no gw on PATH: where to start, and the install that makes every hint's gw and cld run", async () => {
    const r = await runGw([], { env: { PATH: "/usr/bin:/bin" } });
    expect(r.stdout).toEndWith('or gw init (a providers.toml and .env to fill in)\n  bun src/main.ts install   # puts gw and cld on your PATH: then "gw …" and "cld" work as every hint types them\n');
  });

  test("gw help's line for run names every agent gw run starts (claude was missing)", async () => {
    const line = (await runGw(["help"])).stdout.split("\n").find((l) => /^\s+run\s/.test(l))!;
    for (const name of agentNames()) expect(line).toContain(name);
  });

  test("run as cld, its refusals say cld:", async () => {
    const r = await runGw(["cp", "opus"], { argv0: "cld", env: { PATH: "/nonexistent", CLD_TOML: undefined, GW_CONFIG: undefined } });
    expect([r.code, r.stderr]).toEqual([127, "cld: claude (Claude Code) is not on PATH; install it: npm install -g @anthropic-ai/claude-code\n"]);
  });

  test("internal flags are not shown (gw's watchdog still passes --after-crash), not even in a typo's list of valid flags", async () => {
    const r = await runGw(["down", "--help"]);
    expect(r.stdout).not.toContain("after-crash");
    expect(r.stdout).toContain("--config");
    const typo = await runGw(["down", "--jsno"]);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toBe('gw: unknown flag --jsno for "gw down"\n  valid flags: -c, --config; --json; -h, --help\n');
  });

  test("flags are shown as they are typed (--project-id, not the code's projectId)", async () => {
    const r = await runGw(["login", "--help"]);
    expect(r.stdout).toContain("--project-id=<ID>");
    expect(r.stdout).not.toMatch(/--[a-z]+[A-Z]/);
  });

  test("a missing argument names the command's usage as the fix", async () => {
    for (const [args, usage] of [[["service"], "gw service [OPTIONS] <ACTION>"], [["deploy"], "gw deploy [OPTIONS] <HOST>"], [["login"], "gw login [OPTIONS] <NAME> [PROVIDER]"]] as const) {
      const r = await runGw([...args]);
      expect(r.code).toBe(1);
      expect(r.stderr.split("\n")[1]).toBe(`  usage: ${usage}  (gw ${args[0]} --help says what each is)`);
    }
  });

  test("words beyond a command's arguments are refused with its usage (gw restart a b restarted a alone, saying nothing of b)", async () => {
    for (const [args, message, usage] of [
      [["restart", "a", "b"], 'unexpected argument "b" for "gw restart"', "gw restart [OPTIONS] [NAME]"],
      [["status", "a"], 'unexpected argument "a" for "gw status"', "gw status [OPTIONS]"],
      [["route", "explain", "x.json", "y.json"], 'unexpected argument "y.json" for "gw route"', "gw route [OPTIONS] <ACTION> [BODY]"],
      [["down", "now", "please"], 'unexpected arguments "now" "please" for "gw down"', "gw down [OPTIONS]"],
    ] as const) {
      const r = await runGw([...args, "-c", "/nonexistent/providers.toml"]);
      expect([r.code, r.stdout, r.stderr]).toEqual([1, "", `gw: ${message}\n  usage: ${usage}  (gw ${args[0]} --help says what each is)\n`]);
    }
    // gw usage takes any number of log directories
    const logs = [tempFiles({ "2026-11-01.jsonl": "" }), tempFiles({ "2026-11-02.jsonl": "" })];
    const many = await runGw(["usage", ...logs, "--since", "2026-10-01", "--json"]);
    expect(many.code, many.stderr).toBe(0);
    expect(JSON.parse(many.stdout).files).toBe(2);
  });

  test("a flag left without its value is refused: gw down -c \"$UNSET\" stopped the gw of ./providers.toml, gw logs -n showed nothing", async () => {
    for (const [args, flag, usage] of [
      [["down", "-c"], "-c", "gw down [OPTIONS]"],
      [["down", "-c", ""], "-c", "gw down [OPTIONS]"],
      [["status", "--config="], "--config", "gw status [OPTIONS]"],
      [["logs", "-n"], "-n", "gw logs [OPTIONS] [NAME]"],
    ] as const) {
      const r = await runGw([...args]);
      expect([r.code, r.stdout, r.stderr]).toEqual([1, "", `gw: ${flag} needs a value\n  usage: ${usage}  (gw ${args[0]} --help says what each is)\n`]);
    }
  });

  test("gw help --help is gw help", async () => {
    const r = await runGw(["help", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe((await runGw(["help"])).stdout);
  });
});

describe("colour", () => {
  test("piped help has no colour codes, even with nothing in the environment asking for that", async () => {
    for (const args of [["--help"], ["help", "up"], ["logs", "--help"]]) {
      const r = await runGw(args, { env: plainEnv });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("USAGE");
      expect(r.stdout).not.toContain(ESC);
    }
  });

  test("on a TERM=dumb terminal neither help nor an error line has colour codes (Bun's console.error made errors red there)", async () => {
    const tty = await onTerminal(["stauts"], {});
    expect(tty.code).toBe(1);
    expect(tty.stdout).toContain(`${ESC}31mgw: unknown command`); // a colour terminal: red, as Bun prints it
    for (const args of [["stauts"], ["help", "up"]]) {
      const dumb = await onTerminal(args, { TERM: "dumb" });
      expect(dumb.stdout).toMatch(/gw: unknown command|USAGE/);
      expect(dumb.stdout).not.toContain(ESC);
    }
  });

  test("on a terminal help is coloured, unless NO_COLOR is set (to any value)", async () => {
    const tty = await onTerminal(["help", "up"], {});
    expect(tty.code).toBe(0);
    expect(tty.stdout).toContain(`${ESC}1mUSAGE`);
    for (const value of ["1", "yes"]) {
      const plain = await onTerminal(["help", "up"], { NO_COLOR: value });
      expect(plain.stdout).toContain("USAGE");
      expect(plain.stdout).not.toContain(ESC);
    }
  });
});
