#!/usr/bin/env bun
// Only what every start needs is imported here; help, citty's parser and the command itself are
// loaded by the paths that use them, so `gw --version` and `cld` start in a few ms (bench/startup.ts).
import type { CommandDef } from "citty";
import pkg from "../package.json" with { type: "json" };
import { CliError } from "./cli/errors.ts";
import { plainError, useColor } from "./cli/stdio.ts";
import { ABOUT, commands, RAW_ARGV_COMMANDS, SECOND_WORDS, SERVING_COMMANDS, visibleCommands } from "./commands/index.ts";

const usage = () => import("./cli/usage.ts");
const printUsage: Awaited<ReturnType<typeof usage>>["printUsage"] = async (...a) => (await usage()).printUsage(...a);

const root: CommandDef<any> = {
  // named as the user can type it ("./gw" before gw install): help's USAGE lines and "Use gw <command> --help"
  meta: async () => ({ name: (await import("./supervisor/self.ts")).typed("gw"), version: pkg.version, description: pkg.description }),
  // what the list of commands shows: each one's name and description, none of them loaded
  // and `help`, which main() answers itself: citty's USAGE line is where people look for it
  subCommands: () => ({
    ...Object.fromEntries(visibleCommands().map((name) => [name, { meta: { name, description: ABOUT[name as keyof typeof ABOUT] } }])),
    help: { meta: { name: "help", description: "the commands, or one command's flags: gw help COMMAND (same as COMMAND --help)" } },
  }),
};

/** `cld` is the same binary under another name (a link made by `gw install`). */
function invokedAsCld(): boolean {
  return [process.argv0, process.argv[1] ?? ""].some((p) => /(^|\/)cld(\.ts)?$/.test(p));
}

async function main(argv: string[]): Promise<number> {
  if (invokedAsCld()) argv = ["cld", ...argv];
  const first = argv[0];
  if (first === "--version" || first === "-v") {
    const { printVersion } = await import("./version.ts");
    return printVersion(argv.includes("--json"));
  }
  if (!first || first === "--help" || first === "-h") {
    await printUsage(root);
    if (!first) console.log(await startHere());
    return first ? 0 : 1;
  }
  if (first === "help") {
    // `gw help` and `gw help COMMAND`, as people type them; a command that parses its own argv
    // (cld, run, mock) prints its own help, which citty knows nothing about
    const topic = argv[1] === "--help" || argv[1] === "-h" ? undefined : argv[1];
    if (topic && RAW_ARGV_COMMANDS.has(topic)) return main([topic, "--help"]);
    if (!topic) await printUsage(root);
    else await printUsage(await loadCommand(topic), root);
    return 0;
  }
  if (SERVING_COMMANDS.has(first)) (await import("./lb/concurrency.ts")).ensureLbSettings();
  const cmd = await loadCommand(first);
  const rest = argv.slice(1);
  const beforeDashes = rest.indexOf("--") < 0 ? rest : rest.slice(0, rest.indexOf("--"));
  if (!RAW_ARGV_COMMANDS.has(first) && beforeDashes.some((a) => a === "--help" || a === "-h")) {
    await printUsage(cmd, root);
    return 0;
  }
  // Commands that parse their own argv get it untouched: citty's parser would still run over it
  // and throws on a flag like `-project_id x` (an old CLIProxyAPI flag the mock must reject itself).
  const result = RAW_ARGV_COMMANDS.has(first)
    ? await cmd.run?.({ rawArgs: rest, args: { _: rest }, cmd } as unknown as Parameters<NonNullable<typeof cmd.run>>[0])
    : (await (await import("citty")).runCommand(cmd, { rawArgs: rest })).result;
  return typeof result === "number" ? result : 0;
}

/** What bare `gw` adds to the list of commands: where a first hour begins. */
async function startHere(): Promise<string> {
  const { installHint, typed } = await import("./supervisor/self.ts");
  const install = installHint();
  return `Start here: ${typed("gw up")} (with no providers.toml here: a demo), or ${typed("gw init")} (a providers.toml and .env to fill in)${install ? `\n  ${install}` : ""}`;
}

async function loadCommand(name: string): Promise<CommandDef<any>> {
  const load = commands[name];
  if (load) return load();
  const word = (await import("./config/suggest.ts")).didYouMean(name, [...visibleCommands(), ...Object.keys(SECOND_WORDS)]);
  const guess = word && (SECOND_WORDS[word] ?? word);
  throw new CliError(`unknown command "${name}"${guess ? ` — did you mean "${guess}"?` : ""}`, 1, `commands: ${visibleCommands().join(", ")} (${(await import("./supervisor/self.ts")).typed("gw help COMMAND")} for its flags)`);
}


// Bun colours console.error red on a terminal and leaves that to NO_COLOR alone: a TERM=dumb
// terminal (Emacs' shell, some CI consoles) showed every error and notice wrapped in escape codes.
if (!useColor(2)) console.error = plainError;

try {
  const code = await main(process.argv.slice(2));
  if (code !== 0) process.exitCode = code;
} catch (err) {
  if (err instanceof CliError || (err instanceof Error && err.name === "CLIError")) {
    // every refusal and its fix, wherever written (here or in the running gw), with commands typed as this user can run them
    const { typedIn } = await import("./supervisor/self.ts");
    console.error(`${invokedAsCld() ? "cld" : "gw"}: ${typedIn(err.message)}`);
    // citty's own refusals (a missing argument, a bad value) get the command's usage line as their fix
    const name = process.argv[2];
    const hint = err instanceof CliError ? err.hint : name && commands[name] ? await (await usage()).usageHint(await commands[name]()) : undefined;
    if (hint) console.error(`  ${typedIn(hint)}`);
    process.exitCode = err instanceof CliError ? err.exitCode : 1;
  } else {
    console.error(err);
    process.exitCode = 1;
  }
}
