import { hasErrors, loadConfig } from "../config/index.ts";
import { configArgs, defineGwCommand, jsonArgs } from "./_shared.ts";
import { printProblems, requireConfigFile } from "./_config.ts";

export default defineGwCommand({
  meta: { name: "check", description: "validate providers.toml and print every problem" },
  args: {
    ...configArgs,
    ...jsonArgs,
    strict: { type: "boolean", description: "treat warnings as errors" },
  },
  async run({ args }) {
    const file = requireConfigFile(args.config);
    const result = await loadConfig(file);
    const failed = hasErrors(result.problems, args.strict);
    if (args.json) console.log(JSON.stringify({ file, ok: !failed, problems: result.problems }, null, 2));
    else {
      printProblems(result);
      const errors = result.problems.filter((p) => p.severity === "error").length;
      const warnings = result.problems.length - errors;
      const routes = result.config ? `, ${result.config.instances.length} instances, ${result.config.routes.size} routes` : "";
      console.error(`${file}: ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}${routes}`);
    }
    return failed ? 1 : 0;
  },
});
