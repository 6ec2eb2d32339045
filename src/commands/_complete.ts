import { defineCommand } from "citty";
import { findConfigFile, loadConfig } from "../config/index.ts";
import { cldCacheDir } from "../cld/memory.ts";
import { loadCldSource } from "../cld/source.ts";
import { candidates } from "../install/candidates.ts";
import { resolveArgs, userFlags } from "./_shared.ts";
import { ABOUT } from "./index.ts";

// Hidden: `gw _complete -- WORDS…` prints what TAB should offer; the installed shell
// completions call it. Silent on any config trouble: a TAB must never print errors.
export default defineCommand({
  meta: { name: "_complete", description: ABOUT["_complete"], hidden: true },
  async run({ rawArgs }) {
    const words = rawArgs.slice(rawArgs.indexOf("--") + 1);
    const { commands, visibleCommands } = await import("./index.ts");
    const out = await candidates(words, visibleCommands(), {
      // routes as cld would use them, without asking anything (built-ins when it would ask)
      routes: async (config) => (await loadCldSource(config, process.env, { ask: false, cacheDir: cldCacheDir(process.env) })).routes,
      instances: async (config) => {
        const file = findConfigFile(config, process.env);
        return file ? ((await loadConfig(file)).config?.instances.map((i) => i.name) ?? []) : [];
      },
      flags: async (name) => {
        const def = visibleCommands().includes(name) ? await commands[name]!() : undefined;
        if (!def) return [];
        const internal = (def as { internalArgs?: readonly string[] }).internalArgs;
        return [...userFlags(await resolveArgs(def.args), internal).flat(), "-h", "--help"];
      },
    });
    if (out.length) console.log(out.join("\n"));
    return 0;
  },
});
