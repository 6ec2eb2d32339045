import { displayPath } from "../cli/display-path.ts";
import { formatPath } from "../config/positions.ts";
import { typed } from "../supervisor/self.ts";
import { managedInstanceFiles, withInstanceKeys } from "../instances/index.ts";
import { type InstanceFilesOutcome, syncInstanceFiles } from "./_instance-files.ts";
import { configArgs, defineGwCommand, jsonArgs, printJson } from "./_shared.ts";
import { loadValidConfig, printProblems } from "./_config.ts";
import { ABOUT } from "./index.ts";

export default defineGwCommand({
  meta: { name: "gen", description: ABOUT.gen },
  args: { ...configArgs, ...jsonArgs, strict: { type: "boolean", description: "refuse on warnings too" } },
  async run({ args }) {
    const config = await withInstanceKeys(await loadValidConfig(args.config, { strict: args.strict }));
    const outcome = await syncInstanceFiles(config, !!args.json);
    const warnings = outcome.warnings ?? [];
    printProblems({ config, problems: warnings });
    const written = new Set(outcome.written);
    const files = managedInstanceFiles(config).map((f) => ({ instance: f.inst.name, file: f.path }));
    // An instance's warnings (its auth dir left open) with its file: the array keeps its shape.
    const warningsOf = (name: string) => warnings.filter((p) => p.path === formatPath(["instances", name])).map((p) => p.message);
    if (args.json) return printJson(files.map((f) => ({ ...f, changed: written.has(f.file), warnings: warningsOf(f.instance) })), true);
    for (const f of files) console.log(`${written.has(f.file) ? "wrote    " : "unchanged"} ${displayPath(f.file)}`);
    const external = config.instances.filter((i) => !i.managed).map((i) => i.name);
    if (external.length) console.log(`(no YAML for ${external.join(", ")}: given by url, not started by gw)`);
    if (outcome.by) console.log(`(${ranBy(outcome.by)})`);
  },
});

/** Who wrote the files, when a gw runs this config. */
function ranBy(by: NonNullable<InstanceFilesOutcome["by"]>): string {
  const who = `the running gw ${by.kind} (pid ${by.pid})`;
  if (by.kind === "lb") return `${who} runs this config: it writes these files itself when it reloads`;
  if (!by.phase) return `${who} runs this config: these are the files of its reload, so its gateway and instances agree`;
  // Not serving, it did not reload: only the instance files are known to be this config's.
  return `${who} is ${by.phase} and did not reload; these files already are this config's${by.phase === "starting" ? ` — the rest of an edit waits for ${typed("gw reload")} once it serves` : ""}`;
}
