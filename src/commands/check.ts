import { findCliproxy, getCliproxyHint, whyNoCliproxy } from "../cliproxy/locate.ts";
import { hasErrors, loadConfig } from "../config/index.ts";
import { routedModels } from "../config/routed-models.ts";
import { scenariosLeftOut } from "../cld/scenarios.ts";
import { describeUnrouted, emptyAuthDirs, unrouted } from "../migrate/checks.ts";
import { plantedEnvProblems } from "../supervisor/instance-cwd.ts";
import { configArgs, defineGwCommand, jsonArgs, printJson } from "./_shared.ts";
import { checkCounts, checkSummary } from "./_check-summary.ts";
import { configOfSoundInstances, printProblems, requireConfigFile } from "./_config.ts";
import { ABOUT } from "./index.ts";

export default defineGwCommand({
  meta: { name: "check", description: ABOUT.check },
  args: {
    ...configArgs,
    ...jsonArgs,
    strict: { type: "boolean", description: "treat warnings as errors" },
  },
  async run({ args }) {
    const file = requireConfigFile(args.config);
    const result = await loadConfig(file);
    const { config } = result;
    // In the file's folder, yet fatal to an instance: a .env planted in its working directory (supervisor/instance-cwd.ts).
    const inFolder = config ? plantedEnvProblems(config) : [];
    const problems = [...result.problems, ...inFolder];
    // About this machine, not the file: they never fail the check, --strict included. Said for
    // the sound instances when only others have errors: the first hour's logins need not wait.
    const sound = config ?? (await configOfSoundInstances(file, result));
    const logins = sound ? await emptyAuthDirs(sound) : [];
    // The next thing gw up would stumble on: no CLIProxyAPI binary for the instances it starts.
    const needsBinary = config?.instances.some((i) => i.managed && i.command.length === 0) ?? false;
    const binary = needsBinary ? findCliproxy(config, process.env) : null;
    // Scenarios cld cannot launch (its built-in ones name the old launcher's routes): left out of its menu.
    const leftOut = config && config.routes.size > 0 ? scenariosLeftOut(config.cld.scenarios, [...config.routes.keys(), ...routedModels(config.global.lb.router)]) : [];
    const failed = hasErrors(problems, args.strict);
    const sizes = config ? { instances: config.instances.length, routes: config.routes.size } : undefined;
    const tally = { file, inFile: result.problems, inFolder, logins: logins.length, sizes };
    if (args.json) printJson({ file, ok: !failed, problems, counts: checkCounts(tally), logins, unrouted: config ? unrouted(config) : null, cliproxy: binary?.path ?? null, cld_scenarios_left_out: leftOut });
    else {
      printProblems({ config, problems });
      printProblems({ config, problems: logins });
      if (config) console.error(describeUnrouted(unrouted(config)));
      console.error(checkSummary(tally));
      for (const s of leftOut) console.error(`note: cld leaves scenario ${s.name} out of its menu: no route ${s.missing.join(", ")} (define [cld.scenarios.NAME] with your routes)`);
      if (needsBinary && !binary) console.error(`note: no CLIProxyAPI binary found for this config (${whyNoCliproxy(config, process.env)}) — ${getCliproxyHint()}`);
    }
    return failed ? 1 : 0;
  },
});
