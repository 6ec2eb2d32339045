import { findCliproxy, GET_CLIPROXY_HINT, whyNoCliproxy } from "../cliproxy/locate.ts";
import { hasErrors, loadConfig } from "../config/index.ts";
import { configArgs, defineGwCommand, jsonArgs, printJson } from "./_shared.ts";
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
    // Not a problem of the file, but the next thing gw up would stumble on: say it here already.
    const needsBinary = result.config?.instances.some((i) => i.managed && i.command.length === 0) ?? false;
    const binary = needsBinary ? findCliproxy(result.config, process.env) : null;
    if (args.json) printJson({ file, ok: !failed, problems: result.problems, cliproxy: binary?.path ?? null });
    else {
      printProblems(result);
      const errors = result.problems.filter((p) => p.severity === "error").length;
      const warnings = result.problems.length - errors;
      const routes = result.config ? `, ${result.config.instances.length} instances, ${result.config.routes.size} routes` : "";
      console.error(`${file}: ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}${routes}`);
      if (needsBinary && !binary) console.error(`note: no CLIProxyAPI binary found for this config (${whyNoCliproxy(result.config, process.env)}) — ${GET_CLIPROXY_HINT}`);
    }
    return failed ? 1 : 0;
  },
});
