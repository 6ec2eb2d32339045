import type { ArgsDef, CommandDef } from "citty";
import { CliError } from "../cli/errors.ts";
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

/** Flag spellings a command accepts: its names, aliases, their kebab forms, and help. */
function knownFlags(args: ArgsDef): Set<string> {
  const names = new Set(["help", "h", "version", "v"]);
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const aliases = "alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    for (const n of [name, ...aliases]) {
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
export function rejectUnknownFlags(rawArgs: readonly string[], args: ArgsDef, command: string): void {
  const known = knownFlags(args);
  for (const raw of rawArgs) {
    if (raw === "--") break;
    if (!raw.startsWith("-") || raw === "-") continue;
    const name = raw.replace(/^--?/, "").split("=")[0]!;
    // Bundled short flags (-dn) are not used by gw; each letter must still be known.
    const parts = !raw.startsWith("--") && name.length > 1 && !known.has(name) ? [...name] : [name];
    for (const p of parts) {
      if (known.has(p)) continue;
      const valid = Object.entries(args)
        .filter(([, d]) => d.type !== "positional")
        .map(([n, d]) => {
          const a = "alias" in d && d.alias ? (Array.isArray(d.alias) ? d.alias : [d.alias]) : [];
          return [...a.map((x) => `-${x}`), `--${toKebab(n)}`].join(", ");
        });
      throw new CliError(
        `unknown flag ${raw} for "gw ${command}"`,
        1,
        `valid flags: ${[...valid, "-h, --help"].join("; ")}`,
      );
    }
  }
}

/**
 * defineCommand with the strict flag check built in, so no command can forget it.
 * Commands that parse their own argv (cld, mock) use citty's defineCommand directly.
 */
export function defineGwCommand<const T extends ArgsDef>(
  def: CommandDef<T> & { meta: { name: string }; internalArgs?: readonly (keyof T & string)[] },
): CommandDef<T> {
  const run = def.run;
  return {
    ...def,
    async run(ctx) {
      rejectUnknownFlags(ctx.rawArgs, (await resolveArgs(def.args)) as ArgsDef, def.meta.name);
      return run?.(ctx);
    },
  };
}

async function resolveArgs(a: CommandDef["args"]): Promise<ArgsDef> {
  if (!a) return {};
  return typeof a === "function" ? await a() : await a;
}
