import { dirname } from "node:path";
import { CliError } from "../cli/errors.ts";
import { findConfigFile } from "../config/index.ts";
import { resolveLogDirs } from "../observe/log-dirs.ts";
import { requestLogDir } from "../observe/requestlog.ts";
import { GROUPS, type GroupBy, parseSince, usageReport } from "../observe/usage.ts";
import { progressLine } from "../cli/progress.ts";
import { terminalWidth } from "../cli/table.ts";
import { usageCsv, usageJson, usageTable } from "../observe/usage-format.ts";
import { loadConfig } from "../config/index.ts";
import { readableConfigFile } from "./_config.ts";
import { configArgs, defineGwCommand, jsonArgs } from "./_shared.ts";
import { ABOUT } from "./index.ts";
import { controlProbe } from "../supervisor/control.ts";
import { gwPaths } from "../supervisor/paths.ts";

export default defineGwCommand({
  meta: { name: "usage", description: ABOUT.usage },
  variadic: true,
  args: {
    ...configArgs,
    ...jsonArgs,
    since: { type: "string", description: "window: 7d (today and 6 days before), 12h, 2w or a date 2026-11-01", default: "7d", valueHint: "WHEN" },
    by: { type: "string", description: `group rows by ${GROUPS.join(" | ")}`, default: "day", valueHint: "GROUP" },
    csv: { type: "boolean", description: "CSV output" },
    dirs: { type: "positional", required: false, description: "request-log directories or quoted globs, e.g. 'hosts/*/logs' (default: the config's logs/requests)", valueHint: "DIR…" },
  },
  async run({ args }) {
    const by = args.by as GroupBy;
    if (!GROUPS.includes(by)) throw new CliError(`--by ${args.by}: unknown grouping`, 1, `use one of: ${GROUPS.join(", ")}`);
    const sinceMs = parseSince(args.since, Date.now());
    if (sinceMs === null) throw new CliError(`--since ${args.since}: not a window`, 1, "use e.g. 7d, 12h, 2w or 2026-11-01");
    if (args.json && args.csv) throw new CliError("--json and --csv exclude each other", 1, "pick one");
    const named = args._.map(String);
    const logs = await resolveLogDirs(named, process.cwd());
    if (logs.missing.length) throw new CliError(`no log directory at ${logs.missing.join(", ")}`, 1, "name directories that hold YYYY-MM-DD.jsonl request logs (or a gw directory), or a quoted glob");
    // Given directories (another host's logs) need no config here; without one, no [pricing].
    const file = named.length ? findConfigFile(args.config) : await readableConfigFile(args.config);
    // Only the log directory and [pricing] matter here: warnings are `gw check`'s business.
    const loaded = file ? await loadConfig(file) : { config: undefined, problems: [] };
    // Another host's logs read on a laptop without its .env, or this gw's before its keys are
    // filled in (gw init's placeholders): the config only adds [pricing], and the log directory
    // is its folder's whatever it says.
    const config = loaded.config ?? undefined;
    if (file && !config) console.error(`gw: ${file} has errors, so its [pricing] is left out: costs are the catalogue's (gw check lists the errors)`);
    const dir = config?.dir ?? (file ? dirname(file) : undefined);
    const dirs = named.length ? logs.dirs : dir ? [requestLogDir({ dir })] : [];
    // A gw serving this config holds its last records for up to 250 ms before they reach the day
    // files: it writes them first, so a request just answered is counted.
    if (!named.length && dir) await controlProbe(gwPaths(dir), "/flush-log", { method: "POST" });
    const line = progressLine();
    const progress = (read: number, total: number) => line.show(`reading request logs: ${Math.round(read / 1e6)} of ${Math.round(total / 1e6)} MB`);
    const report = await usageReport({ dirs, pricing: config?.pricing ?? {}, sinceMs, by, progress }).finally(() => line.end());
    console.log(args.json ? usageJson(report) : args.csv ? usageCsv(report) : usageTable(report, terminalWidth()));
  },
});
