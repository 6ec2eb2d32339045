import type { RestartResult } from "../supervisor/instances.ts";
import { controlRequest, ndjsonLines } from "../supervisor/control.ts";
import { restartLine } from "../supervisor/format.ts";
import { targetPaths } from "../supervisor/target.ts";
import { followRestarts, type RestartLine } from "./_restarts.ts";
import { configArgs, defineGwCommand, jsonArgs, printJson } from "./_shared.ts";

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
    type Answer = { results: RestartResult[] };
    const { answer, restarted } = await followRestarts<Answer>(ndjsonLines<RestartLine<Answer>>(res.body!), !!args.json);
    const results = answer?.results ?? [];
    if (args.json) printJson({ results }, true);
    // A gw from before progress lines answers with the results alone.
    else if (restarted.length === 0) for (const result of results) console.log(restartLine({ event: "restarted", result }));
    return results.every((r) => r.ok) ? 0 : 1;
  },
});
