import { CliError } from "../cli/errors.ts";
import { loadConfig } from "../config/index.ts";
import { withSavedInstanceKeys } from "../instances/index.ts";
import { writtenSecrets } from "../instances/written-secrets.ts";
import { createMasker, maskerOf } from "../observe/mask.ts";
import { controlRequest, ndjsonLines, NotRunningError } from "../supervisor/control.ts";
import { logSourcesOnDisk, logStream } from "../supervisor/logtail.ts";
import type { GwPaths } from "../supervisor/paths.ts";
import { readableTarget } from "./_config.ts";
import { configArgs, defineGwCommand, jsonArgs } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "logs", description: "show the logs of gw and its instances (-f: follow); reads the files when gw is not running" },
  args: {
    ...configArgs,
    ...jsonArgs,
    name: { type: "positional", required: false, description: "an instance, or gw (default: all)" },
    follow: { type: "boolean", alias: "f", description: "keep printing new lines" },
    lines: { type: "string", alias: "n", description: "lines of each log to show first (default 20)", valueHint: "N" },
  },
  async run({ args }) {
    const n = args.lines === undefined ? 20 : Number(args.lines);
    if (!Number.isInteger(n) || n < 0) throw new CliError(`-n ${args.lines} is not a line count`, 1, "give a whole number, e.g. -n 100");
    const { file, paths } = await readableTarget(args.config);
    const query = new URLSearchParams({ n: String(n), ...(args.name ? { name: args.name } : {}), ...(args.follow ? { follow: "1" } : {}) });
    let body: ReadableStream<Uint8Array>;
    try {
      body = (await controlRequest(paths, `/logs?${query}`)).body!;
    } catch (err) {
      if (!(err instanceof NotRunningError)) throw err;
      // After gw down or a crash is exactly when the logs are wanted: read the files themselves.
      body = await logsOnDisk(paths, args.name, n, !!args.follow, await diskMasker(file, paths));
    }
    for await (const entry of ndjsonLines<{ name: string; line: string }>(body)) {
      console.log(args.json ? JSON.stringify(entry) : args.name ? entry.line : `${entry.name} | ${entry.line}`);
    }
  },
});

async function logsOnDisk(paths: GwPaths, name: string | undefined, n: number, follow: boolean, mask: (s: string) => string): Promise<ReadableStream<Uint8Array>> {
  const all = await logSourcesOnDisk(paths.logsDir);
  if (all.length === 0) throw new CliError(`gw is not running for ${paths.dir} and has left no logs in ${paths.logsDir}`, 1, "start it with: gw up -d");
  const sources = name ? all.filter((s) => s.name === name) : all;
  if (sources.length === 0) throw new CliError(`no log for '${name}' in ${paths.logsDir}`, 1, `valid names: ${all.map((s) => s.name).join(", ")}`);
  console.error(`gw is not running for ${paths.dir}; showing its log files in ${paths.logsDir}`);
  return logStream(sources, n, follow, new AbortController().signal, mask);
}

/** The masker of the config these logs belong to, with its saved instance keys; what gw wrote for it when it does not load. */
async function diskMasker(file: string, paths: GwPaths): Promise<(s: string) => string> {
  const { config } = await loadConfig(file);
  return config ? maskerOf(await withSavedInstanceKeys(config)).text : createMasker(await writtenSecrets(paths.dir)).text;
}
