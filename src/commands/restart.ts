import type { RestartResult } from "../supervisor/instances.ts";
import { controlJson } from "../supervisor/control.ts";
import { targetPaths } from "../supervisor/target.ts";
import { configArgs, defineGwCommand, jsonArgs, printJson } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "restart", description: "restart one instance, or all one by one (their routes fail over meanwhile)" },
  args: {
    ...configArgs,
    ...jsonArgs,
    name: { type: "positional", required: false, description: "instance to restart (default: all, rolling)" },
  },
  async run({ args }) {
    const query = args.name ? `?name=${encodeURIComponent(args.name)}` : "";
    const { results } = await controlJson<{ results: RestartResult[] }>(targetPaths(args.config), `/restart${query}`, { method: "POST" });
    if (args.json) printJson({ results }, true);
    else for (const r of results) console.log(r.ok ? `${r.name}: restarted, ready in ${(r.ms / 1000).toFixed(1)} s` : `${r.name}: ${r.problem || "not ready yet"}`);
    return results.every((r) => r.ok) ? 0 : 1;
  },
});
