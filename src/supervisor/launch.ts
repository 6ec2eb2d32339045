// The command line of one managed instance: its `command` (placeholders filled) or the
// CLIProxyAPI binary with `-config YAML`. A missing program is a one-line error with the fix.
import { isAbsolute, resolve } from "node:path";
import { commandListHint } from "../config/instances.ts";
import type { Config, InstanceConfig } from "../config/types.ts";
import { findCliproxy, getCliproxyHint, whyNoCliproxy } from "../cliproxy/locate.ts";
import { maskerOf } from "../observe/mask.ts";
import { instanceYaml } from "./paths.ts";

/**
 * `shown` is the command line for logs/NAME.log: `command` as written (a `${VAR}` stays its
 * name), then through the config's masker (maskerOf: known secrets, token shapes).
 */
type Launch = { readonly argv: string[]; readonly shown: string } | { readonly error: string };

type Env = Record<string, string | undefined>;

export function launchFor(config: Config, inst: InstanceConfig, env: Env): Launch {
  const yaml = instanceYaml(config.dir, inst.name);
  if (inst.command.length > 0) {
    const fill = (a: string) => a.replaceAll("{config}", yaml).replaceAll("{port}", String(inst.port));
    const argv = inst.command.map(fill);
    const program = findProgram(argv[0]!, config.dir, env);
    if (!program) {
      const oneString = inst.command.length === 1 && /\s/.test(inst.command[0]!.trim());
      const fix = oneString ? `gw runs no shell: write [instances.${inst.name}] ${commandListHint(inst.command[0]!)}` : `fix [instances.${inst.name}] command or install it`;
      return { error: `command of instance '${inst.name}' not found: ${argv[0]} — ${fix}` };
    }
    const shown = maskerOf(config).text([program, ...inst.commandAsWritten.slice(1).map(fill)].join(" "));
    return { argv: [program, ...argv.slice(1)], shown };
  }
  const bin = findCliproxy(config, env);
  if (!bin) return { error: `CLIProxyAPI binary for instance '${inst.name}' not found (${whyNoCliproxy(config, env)}) — ${getCliproxyHint()}` };
  // gw named as the binary: its stand-in takes the same flags as CLIProxyAPI.
  const argv = bin.isGw ? [bin.path, "mock", "-config", yaml] : [bin.path, "-config", yaml];
  return { argv, shown: argv.join(" ") };
}

/** A bare name is looked up on PATH; a relative path is relative to the config's directory. */
function findProgram(program: string, dir: string, env: Env): string | null {
  if (program.includes("/")) {
    const abs = isAbsolute(program) ? program : resolve(dir, program);
    return Bun.which(abs) ?? null;
  }
  return Bun.which(program, { PATH: env.PATH ?? "" }) ?? null;
}
