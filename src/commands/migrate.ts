import { statSync } from "node:fs";
import { CliError } from "../cli/errors.ts";
import { formatMigrate, migrate } from "../migrate/index.ts";
import { loadValidConfig } from "./_config.ts";
import { configArgs, defineGwCommand, jsonArgs, printJson } from "./_shared.ts";
import { typedIn } from "../supervisor/self.ts";
import { ABOUT } from "./index.ts";

export default defineGwCommand({
  meta: { name: "migrate", description: ABOUT.migrate },
  args: {
    ...configArgs,
    ...jsonArgs,
    apply: { type: "boolean", description: "copy the credentials (without it: only say what would be done)" },
    ecosystem: { type: "string", description: "the old PM2 ecosystem file (default: ecosystem.config.js, .json, .yml … beside providers.toml)", valueHint: "FILE" },
  },
  async run({ args }) {
    const config = await loadValidConfig(args.config);
    if (args.ecosystem) ecosystemFile(args.ecosystem);
    const report = await migrate(config, { apply: args.apply === true, ecosystem: args.ecosystem });
    const { problem, ...done } = report;
    // With --json a write that failed is a result too (as for gw deploy): what was done, and why it stopped.
    if (args.json) printJson({ ok: !problem, ...done, problem: problem?.message ?? null, hint: problem?.hint ?? null });
    else console.log(typedIn(formatMigrate(report)));
    if (problem && !args.json) throw problem; // its one line on stderr, after what was done
    return problem ? problem.exitCode : 0;
  },
});

/** --ecosystem must name a file (a FIFO or a directory would block or fail the read). */
function ecosystemFile(path: string): void {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st?.isFile()) throw new CliError(`--ecosystem ${path}: ${st ? "not a regular file" : "no such file"}`, 1, "give the old PM2 ecosystem.config.js, or leave --ecosystem out");
}
