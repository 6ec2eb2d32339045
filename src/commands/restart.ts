import { CliError } from "../cli/errors.ts";
import type { RestartResult } from "../supervisor/instances.ts";
import { controlRequest, ndjsonLines } from "../supervisor/control.ts";
import { restartLine } from "../supervisor/format.ts";
import { targetPaths } from "../supervisor/target.ts";
import { followRestarts, type RestartLine } from "./_restarts.ts";
import { configArgs, defineGwCommand, jsonArgs, printJson } from "./_shared.ts";
import { ABOUT } from "./index.ts";

export default defineGwCommand({
  meta: { name: "restart", description: ABOUT.restart },
  args: {
    ...configArgs,
    ...jsonArgs,
    name: { type: "positional", required: false, description: "instance to restart (default: all, rolling)" },
  },
  async run({ args }) {
    const query = args.name ? `?name=${encodeURIComponent(args.name)}` : "";
    const paths = await targetPaths(args.config, "restart");
    type Answer = { results: RestartResult[] };
    const request = async () => ndjsonLines<RestartLine<Answer>>((await controlRequest(paths, `/restart${query}`, { method: "POST" })).body!);
    const { answer, restarted } = await followRestarts<Answer>(request, !!args.json, "restart");
    // No answer: gw went away mid-restart (killed, say); that is no restart that went well.
    if (!answer) throw new CliError("gw ended the restart without an answer", 1, "see how it went: gw status · gw logs");
    const results = answer.results;
    if (args.json) printJson({ results }, true);
    // A gw from before progress lines answers with the results alone.
    else if (restarted.length === 0) for (const result of results) console.log(restartLine({ event: "restarted", result }));
    return results.every((r) => r.ok) ? 0 : 1;
  },
});
