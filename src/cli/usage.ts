// Help text: citty renders it; gw drops what users should not see (hidden commands, internal
// flags) and the colour codes when nobody reads them in a terminal.
import { type ArgsDef, type CommandDef, renderUsage } from "citty";
import { typed } from "../supervisor/self.ts";
import { useColor } from "./stdio.ts";

/** A command may name flags it takes from gw itself (the watchdog's), kept out of its help. */
type GwCommandDef = CommandDef<any> & { readonly internalArgs?: readonly string[] };

async function usageText(cmd: GwCommandDef, parent?: CommandDef<any>, color = useColor(1)): Promise<string> {
  const internal = new Set(cmd.internalArgs ?? []);
  let shown: CommandDef<any> = cmd;
  if (internal.size > 0) {
    const args = (typeof cmd.args === "function" ? await cmd.args() : await cmd.args) ?? {};
    shown = { ...cmd, args: Object.fromEntries(Object.entries(args as ArgsDef).filter(([name]) => !internal.has(name))) };
  }
  const text = await renderUsage(shown, parent);
  return color ? text : Bun.stripANSI(text);
}

export async function printUsage(cmd: GwCommandDef, parent?: CommandDef<any>): Promise<void> {
  console.log(`${await usageText(cmd, parent)}\n`);
}

/** `usage: gw login [OPTIONS] <NAME> [PROVIDER]  (gw login --help says what each is)`: the fix for a wrong argument. */
export async function usageHint(cmd: GwCommandDef): Promise<string | undefined> {
  const name = (await (typeof cmd.meta === "function" ? cmd.meta() : cmd.meta))?.name;
  const gw = typed("gw");
  const usage = (await usageText(cmd, { meta: { name: gw } }, false)).split("\n").find((l) => l.startsWith("USAGE "));
  return usage ? `usage: ${usage.slice("USAGE ".length).trimEnd()}  (${gw} ${name} --help says what each is)` : undefined;
}
