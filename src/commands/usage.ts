import { CliError } from "../cli/errors.ts";
import { requestLogDir } from "../observe/requestlog.ts";
import { GROUPS, type GroupBy, parseSince, usageReport } from "../observe/usage.ts";
import { usageCsv, usageJson, usageTable } from "../observe/usage-format.ts";
import { loadConfig } from "../config/index.ts";
import { printProblems, requireConfigFile } from "./_config.ts";
import { configArgs, defineGwCommand, jsonArgs } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "usage", description: "tokens and estimated cost from the request logs" },
  args: {
    ...configArgs,
    ...jsonArgs,
    since: { type: "string", description: "window: 7d (today and 6 days before), 12h, 2w or a date 2026-11-01", default: "7d", valueHint: "WHEN" },
    by: { type: "string", description: `group rows by ${GROUPS.join(" | ")}`, default: "day", valueHint: "GROUP" },
    csv: { type: "boolean", description: "CSV output" },
  },
  async run({ args }) {
    const by = args.by as GroupBy;
    if (!GROUPS.includes(by)) throw new CliError(`--by ${args.by}: unknown grouping`, 1, `use one of: ${GROUPS.join(", ")}`);
    const sinceMs = parseSince(args.since, Date.now());
    if (sinceMs === null) throw new CliError(`--since ${args.since}: not a window`, 1, "use e.g. 7d, 12h, 2w or 2026-11-01");
    if (args.json && args.csv) throw new CliError("--json and --csv exclude each other", 1, "pick one");
    const file = requireConfigFile(args.config);
    // Only the log directory and [pricing] matter here: warnings are `gw check`'s business.
    const { config, problems } = await loadConfig(file);
    if (!config) {
      printProblems({ config, problems: problems.filter((p) => p.severity === "error") });
      throw new CliError(`${file} has errors; usage needs its [pricing] and log directory`, 1, "gw check lists every problem");
    }
    const report = await usageReport({ dir: requestLogDir(config), pricing: config.pricing, sinceMs, by });
    console.log(args.json ? usageJson(report) : args.csv ? usageCsv(report) : usageTable(report));
  },
});
