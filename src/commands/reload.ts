import { CliError } from "../cli/errors.ts";
import { controlRequest, ndjsonLines, type ReloadAnswer } from "../supervisor/control.ts";
import { targetPaths } from "../supervisor/target.ts";
import { followRestarts, type RestartLine } from "./_restarts.ts";
import { configArgs, defineGwCommand, jsonArgs, printJson } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "reload", description: "re-read the config: rewrite instance YAML, swap the LB config, start/stop/restart changed instances" },
  args: { ...configArgs, ...jsonArgs },
  async run({ args }) {
    const paths = targetPaths(args.config);
    // An instance the reload relaunches is drained first (up to shutdown_grace_ms): its progress
    // comes as gw restart's does, one line per step, before the answer. A gw from before progress
    // lines answers with the JSON alone.
    const request = async () => {
      const res = await controlRequest(paths, "/reload", { method: "POST" });
      return res.headers.get("content-type")?.includes("ndjson") ? ndjsonLines<RestartLine<ReloadAnswer>>(res.body!) : [(await res.json()) as RestartLine<ReloadAnswer>];
    };
    const { answer: r, restarted } = await followRestarts<ReloadAnswer>(request, !!args.json, "reload");
    if (!r) throw new CliError("gw ended the reload without an answer", 1, "see gw logs");
    if (args.json) printJson({ ...r, restarted }, true);
    else {
      for (const p of r.problems) console.error(p);
      console.log(r.ok ? "config reloaded" : "config not reloaded; gw keeps running the previous one");
    }
    return r.ok ? 0 : 1;
  },
});
