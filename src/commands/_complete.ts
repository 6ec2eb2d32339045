import type { CommandDef } from "citty";
import { candidates } from "../install/candidates.ts";
import { ABOUT, commands, visibleCommands } from "./index.ts";

// Hidden: `gw _complete -- WORDS…` prints what TAB should offer; the installed shell
// completions call it. Silent on any config trouble: a TAB must never print errors.
// Every TAB starts gw anew: each list's modules load only when the word being completed asks for
// that list (a route name: cld's config choice; an instance: the config reader; a flag: the
// command), and citty never (it parses its own argv, a plain definition as cld's).
export default {
  meta: { name: "_complete", description: ABOUT["_complete"], hidden: true },
  async run({ rawArgs }) {
    const words = rawArgs.slice(rawArgs.indexOf("--") + 1);
    const out = await candidates(words, visibleCommands(), {
      // routes as cld would use them, without asking anything (built-ins when it would ask)
      routes: async (config) => {
        const [{ loadCldSource }, { cldCacheDir }] = await Promise.all([import("../cld/source.ts"), import("../cld/memory.ts")]);
        return (await loadCldSource(config, process.env, { ask: false, cacheDir: cldCacheDir(process.env) })).routes;
      },
      instances: async (config) => {
        const { findConfigFile, declaredInstanceNames } = await import("../config/index.ts");
        const file = findConfigFile(config, process.env);
        return file ? declaredInstanceNames(file) : [];
      },
      providers: async (config, instance) => {
        const { findConfigFile, declaredInstances } = await import("../config/index.ts");
        const file = findConfigFile(config, process.env);
        return file ? declaredInstances(file)[instance] : undefined;
      },
      flags: async (name) => {
        const def = visibleCommands().includes(name) ? await commands[name]!() : undefined;
        if (!def) return [];
        const { resolveArgs, userFlags } = await import("./_shared.ts");
        const internal = (def as { internalArgs?: readonly string[] }).internalArgs;
        return [...userFlags(await resolveArgs(def.args), internal).flat(), "-h", "--help"];
      },
    });
    if (out.length) console.log(out.join("\n"));
    return 0;
  },
} satisfies CommandDef;
