import { CliError } from "../cli/errors.ts";
import type { RestartProgress, RestartResult } from "../supervisor/instances.ts";
import { controlRequest, ndjsonLines } from "../supervisor/control.ts";
import { restartLine } from "../supervisor/format.ts";
import { targetPaths } from "../supervisor/target.ts";
import { configArgs, defineGwCommand, jsonArgs, printJson } from "./_shared.ts";

type Line = RestartProgress | { results: RestartResult[] } | { error: string };

export default defineGwCommand({
  meta: { name: "restart", description: "restart one instance, or all one by one: each first lets its requests in flight finish while its routes fail over" },
  args: {
    ...configArgs,
    ...jsonArgs,
    name: { type: "positional", required: false, description: "instance to restart (default: all, rolling)" },
  },
  async run({ args }) {
    const query = args.name ? `?name=${encodeURIComponent(args.name)}` : "";
    const res = await controlRequest(targetPaths(args.config), `/restart${query}`, { method: "POST" });
    let results: RestartResult[] = [];
    let shown = 0;
    for await (const line of ndjsonLines<Line>(res.body!)) {
      if ("error" in line) throw new CliError(line.error);
      if ("results" in line) results = line.results;
      else if (!args.json) {
        console.log(restartLine(line));
        if (line.event === "restarted") shown++;
      }
    }
    if (args.json) printJson({ results }, true);
    // A gw from before progress lines answers with the results alone.
    else if (shown === 0) for (const result of results) console.log(restartLine({ event: "restarted", result }));
    return results.every((r) => r.ok) ? 0 : 1;
  },
});
