import type { ArgsDef, CommandDef } from "citty";
import { CliError } from "../cli/errors.ts";
import { usageHint } from "../cli/usage.ts";
export { printJson } from "../cli/json.ts";

/** Every subcommand takes -c/--config. */
export const configArgs = {
  config: {
    type: "string",
    alias: "c",
    description: "providers.toml to use (default: ./providers.toml, then $GW_CONFIG)",
    valueHint: "FILE",
  },
} as const satisfies ArgsDef;

export const jsonArgs = {
  json: { type: "boolean", description: "machine-readable output" },
} as const satisfies ArgsDef;

const toKebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const aliasesOf = (def: ArgsDef[string]): string[] => ("alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : []);

/**
 * The flags a user may type for a command, one group per flag (`["-c", "--config"]`), without the
 * ones gw passes itself (internalArgs): for the unknown-flag hint and for shell completion.
 */
export function userFlags(args: ArgsDef, internal: readonly string[] = []): string[][] {
  return Object.entries(args)
    .filter(([name, def]) => def.type !== "positional" && !internal.includes(name))
    .map(([name, def]) => [...aliasesOf(def).map((a) => `-${a}`), `--${toKebab(name)}`]);
}

/** Flag spellings a command accepts: its names, aliases, their kebab forms, and help. */
function knownFlags(args: ArgsDef): Set<string> {
  const names = new Set(["help", "h", "version", "v"]);
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    for (const n of [name, ...aliasesOf(def)]) {
      names.add(n);
      names.add(toKebab(n));
      if (def.type === "boolean") names.add(`no-${toKebab(n)}`);
    }
  }
  return names;
}

/**
 * citty accepts unknown flags silently (`--prot 3` becomes args.prot); a typo must not pass,
 * so every command checks its raw arguments against its declared ones.
 */
function rejectUnknownFlags(rawArgs: readonly string[], args: ArgsDef, command: string, internal: readonly string[] = []): void {
  const known = knownFlags(args);
  for (const raw of rawArgs) {
    if (raw === "--") break;
    if (!raw.startsWith("-") || raw === "-") continue;
    const name = raw.replace(/^--?/, "").split("=")[0]!;
    // Bundled short flags (-dn) are not used by gw; each letter must still be known.
    const parts = !raw.startsWith("--") && name.length > 1 && !known.has(name) ? [...name] : [name];
    for (const p of parts) {
      if (known.has(p)) continue;
      const valid = userFlags(args, internal).map((group) => group.join(", "));
      throw new CliError(
        `unknown flag ${raw} for "gw ${command}"`,
        1,
        `valid flags: ${[...valid, "-h, --help"].join("; ")}`,
      );
    }
  }
}

/**
 * citty drops words beyond the positionals a command declares: `gw restart a b` restarted a alone
 * and said nothing of b, `gw status a` showed everything. A command that takes any number of them
 * (usage's DIR…) says so with `variadic: true` in its definition.
 */
function extraPositionals(given: readonly unknown[], args: ArgsDef): string[] {
  const declared = Object.values(args).filter((def) => def.type === "positional").length;
  return given.slice(declared).map(String);
}

/**
 * A flag that takes a value but got none: citty reads `-c` at the end of a line, `-c ""` and
 * `--config=` alike as "", which commands took for "not given" — `gw down -c "$FILE"` with FILE
 * unset stopped the gw of ./providers.toml. The spelling the user typed, or null.
 */
function emptyValueFlag(rawArgs: readonly string[], args: ArgsDef, given: Record<string, unknown>): string | null {
  for (const [name, def] of Object.entries(args)) {
    if (def.type !== "string" || given[name] !== "") continue;
    const spellings = new Set([name, toKebab(name), ...aliasesOf(def)]);
    return rawArgs.find((raw) => spellings.has(raw.replace(/^--?/, "").split("=")[0]!)) ?? `--${toKebab(name)}`;
  }
  return null;
}

/**
 * defineCommand with the strict flag and argument checks built in, so no command can forget them.
 * Commands that parse their own argv (cld, mock) use citty's defineCommand directly.
 */
export function defineGwCommand<const T extends ArgsDef>(
  def: CommandDef<T> & { meta: { name: string }; internalArgs?: readonly (keyof T & string)[]; variadic?: boolean },
): CommandDef<T> {
  const run = def.run;
  return {
    ...def,
    async run(ctx) {
      const args = (await resolveArgs(def.args)) as ArgsDef;
      rejectUnknownFlags(ctx.rawArgs, args, def.meta.name, def.internalArgs);
      const empty = emptyValueFlag(ctx.rawArgs, args, ctx.args);
      if (empty) throw new CliError(`${empty.split("=")[0]} needs a value`, 1, await usageHint(def));
      const extra = def.variadic ? [] : extraPositionals(ctx.args._, args);
      if (extra.length) {
        const words = extra.map((w) => `"${w}"`).join(" ");
        throw new CliError(`unexpected argument${extra.length > 1 ? "s" : ""} ${words} for "gw ${def.meta.name}"`, 1, await usageHint(def));
      }
      return run?.(ctx);
    },
  };
}

export async function resolveArgs(a: CommandDef["args"]): Promise<ArgsDef> {
  if (!a) return {};
  return typeof a === "function" ? await a() : await a;
}
