import { findCliproxy, getCliproxyHint, whyNoCliproxy } from "../cliproxy/locate.ts";
import { hasErrors, loadConfig } from "../config/index.ts";
import { routedModels } from "../config/router.ts";
import { scenariosLeftOut } from "../cld/scenarios.ts";
import { describeUnrouted, emptyAuthDirs, unrouted } from "../migrate/checks.ts";
import { plantedEnvProblems } from "../supervisor/instance-cwd.ts";
import { configArgs, defineGwCommand, jsonArgs, printJson } from "./_shared.ts";
import { printProblems, requireConfigFile } from "./_config.ts";
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
    // Beside the file, yet fatal to an instance: a .env planted in its working directory (supervisor/instance-cwd.ts).
    const problems = config ? [...result.problems, ...plantedEnvProblems(config)] : result.problems;
    // About this machine, not the file: they never fail the check, --strict included.
    const logins = config ? await emptyAuthDirs(config) : [];
    // The next thing gw up would stumble on: no CLIProxyAPI binary for the instances it starts.
    const needsBinary = config?.instances.some((i) => i.managed && i.command.length === 0) ?? false;
    const binary = needsBinary ? findCliproxy(config, process.env) : null;
    // Scenarios cld cannot launch (its built-in ones name the old launcher's routes): left out of its menu.
    const leftOut = config && config.routes.size > 0 ? scenariosLeftOut(config.cld.scenarios, [...config.routes.keys(), ...routedModels(config.global.lb.router)]) : [];
    const failed = hasErrors(problems, args.strict);
    if (args.json) printJson({ file, ok: !failed, problems, logins, unrouted: config ? unrouted(config) : null, cliproxy: binary?.path ?? null, cld_scenarios_left_out: leftOut });
    else {
      printProblems({ config, problems });
      printProblems({ config, problems: logins });
      if (config) console.error(describeUnrouted(unrouted(config)));
      const errors = problems.filter((p) => p.severity === "error").length;
      const warnings = problems.length - errors;
      const routes = config ? `, ${config.instances.length} instances, ${config.routes.size} routes` : "";
      // The login warnings above are about this machine: counted apart, so "0 warnings" does not follow two "warning:" lines.
      const missing = logins.length ? `; on this machine: ${logins.length} OAuth provider${logins.length === 1 ? "" : "s"} without a login (warned above; never a failure)` : "";
      const inFile = logins.length ? " in the file" : "";
      console.error(`${file}: ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}${inFile}${routes}${missing}`);
      for (const s of leftOut) console.error(`note: cld leaves scenario ${s.name} out of its menu: no route ${s.missing.join(", ")} (define [cld.scenarios.NAME] with your routes)`);
      if (needsBinary && !binary) console.error(`note: no CLIProxyAPI binary found for this config (${whyNoCliproxy(config, process.env)}) — ${getCliproxyHint()}`);
    }
    return failed ? 1 : 0;
  },
});
