// What TAB offers after the words typed so far (pure). One place for the logic, so the bash,
// zsh and fish scripts only ask `gw _complete -- WORDS…` and print the answer.
// Every TAB is a fresh process: the agent registry and the login code (~7 ms in the compiled
// binary, bench/startup.ts) are loaded only for the words that need them (`gw run …`, `gw login NAME`).
import { basename } from "node:path";
import { MODES, parseCldArgs, YOLO_FLAG } from "../cld/args.ts";
import { GROUPS } from "../observe/usage-groups.ts";

/** Commands whose first positional is an instance name. */
const INSTANCE_COMMANDS = new Set(["logs", "restart", "login"]);
/** Commands whose first positional is an action word. */
const ACTIONS: Readonly<Record<string, readonly string[]>> = { cliproxy: ["install", "version"], service: ["install"], route: ["explain"] };
/** Flags whose value is a file or folder on this machine. */
const PATH_FLAGS = new Set(["-c", "--config", "--prefix", "--ecosystem", "--from"]);
/** Flags whose value is one of a few words. */
const VALUE_CHOICES: Readonly<Record<string, readonly string[]>> = { "--by": GROUPS };
/** The flags of those commands that take a value: the word after one is no positional. */
const VALUE_FLAGS = new Set([...PATH_FLAGS, ...Object.keys(VALUE_CHOICES), "-n", "--lines", "--project-id", "--dir", "--port", "--since"]);
/** Commands whose arguments are files or folders: gw upgrade PATH, gw init DIR, gw usage DIR…; gw route explain FILE. */
const PATH_COMMANDS = new Set(["upgrade", "init", "usage"]);
/** Answer meaning "let the shell complete file names". */
export const FILES = "__files__";

export interface NameLists {
  routes(config: string | undefined): Promise<readonly string[]>;
  instances(config: string | undefined): Promise<readonly string[]>;
  /** The provider types an instance lists (undefined: no such instance, or no config to read). */
  providers(config: string | undefined, instance: string): Promise<readonly string[] | undefined>;
  /** The flags gw COMMAND takes (its own, not gw's internal ones). */
  flags(command: string): Promise<readonly string[]>;
}
/** cld's and gw run's own flags. */
const LAUNCH_FLAGS = ["-y", "--yolo", "-c", "--config", "-h", "--help"];

/** `words` = the command line up to and including the word being completed (may be ""). */
export async function candidates(words: readonly string[], commands: readonly string[], lists: NameLists): Promise<readonly string[]> {
  const prev = words.at(-2);
  if (prev !== undefined && PATH_FLAGS.has(prev)) return [FILES];
  if (prev !== undefined && VALUE_CHOICES[prev]) return VALUE_CHOICES[prev];
  const cmd = basename(words[0] ?? "");
  if (cmd === "cld") return cldCandidates(words.slice(1), lists);
  if (words.length <= 2) return commands;
  const sub = words[1]!;
  if (sub === "cld") return cldCandidates(words.slice(2), lists);
  if (sub === "run") return runCandidates(words.slice(2), lists);
  const cur = words.at(-1)!;
  if (cur.startsWith("-")) return lists.flags(sub);
  const nth = positionalsBefore(words).length; // which of the command's arguments is being typed
  if (sub === "help") return nth === 0 ? commands : [];
  if (INSTANCE_COMMANDS.has(sub) && nth === 0) return [...(sub === "logs" ? ["gw"] : []), ...(await lists.instances(configOnLine(words)))];
  if (sub === "login" && nth === 1) return loginsFor(await lists.providers(configOnLine(words), positionalsBefore(words)[0]!));
  if (ACTIONS[sub] && nth === 0) return ACTIONS[sub];
  if (PATH_COMMANDS.has(sub) || (sub === "route" && nth === 1)) return [FILES];
  return [];
}

/** The arguments typed after the command and before the word being completed (flags and their values left out). */
function positionalsBefore(words: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 2; i < words.length - 1; i++) {
    if (VALUE_FLAGS.has(words[i]!)) i++;
    else if (!words[i]!.startsWith("-")) out.push(words[i]!);
  }
  return out;
}

/** cld's words after the command: flags, a mode, then (cp) a route; the rest is claude's. */
async function cldCandidates(args: readonly string[], lists: NameLists): Promise<readonly string[]> {
  const cur = args.at(-1) ?? "";
  if (cur.startsWith("-")) return LAUNCH_FLAGS;
  const before = parseCldArgs(args.slice(0, -1));
  if (before.claudeArgsWithFilter.some((a) => a !== YOLO_FLAG)) return [];
  if (!before.mode) return MODES;
  if (before.mode === "cp" && before.filter === undefined) return lists.routes(before.config);
  return [];
}

/** gw run's words: flags, an agent of the registry, then a route; the rest is the agent's. */
async function runCandidates(args: readonly string[], lists: NameLists): Promise<readonly string[]> {
  if ((args.at(-1) ?? "").startsWith("-")) return LAUNCH_FLAGS;
  if (args.slice(0, -1).includes("--")) return [];
  const [{ agentNames, findAgent }, { parseRunArgs }] = await Promise.all([import("../run/agents/index.ts"), import("../run/args.ts")]);
  const before = parseRunArgs(args.slice(0, -1));
  const yolo = new Set(before.agent ? findAgent(before.agent)?.yolo : []);
  if (before.agentArgs.some((a) => !yolo.has(a))) return [];
  if (!before.agent) return agentNames();
  return before.filter === undefined ? lists.routes(before.config) : [];
}

/**
 * The logins `gw login NAME` takes for what the instance lists (codex also by device code; the
 * Gemini CLI login has no provider type: always offered); every login when the file says nothing.
 */
async function loginsFor(types: readonly string[] | undefined): Promise<readonly string[]> {
  const { LOGIN_PROVIDERS } = await import("../supervisor/login.ts");
  if (types === undefined) return LOGIN_PROVIDERS;
  return LOGIN_PROVIDERS.filter((p) => p === "gemini" || types.includes(p === "codex-device" ? "codex" : p));
}

function configOnLine(words: readonly string[]): string | undefined {
  const i = words.findIndex((w) => w === "-c" || w === "--config");
  return i >= 0 ? words[i + 1] : words.find((w) => w.startsWith("--config="))?.slice("--config=".length);
}
