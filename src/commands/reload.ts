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
    // The config is in force either way; an instance it relaunched that did not come up is still
    // something to fix, so a script sees it as gw restart's caller does: exit 1.
    const failed = restarted.filter((x) => !x.ok).map((x) => x.name);
    if (args.json) printJson({ ...r, restarted }, true);
    else {
      for (const p of r.problems) console.error(p);
      if (!r.ok) console.log("config not reloaded; gw keeps running the previous one");
      else if (failed.length > 0) console.log(`config reloaded, but ${failed.join(", ")} did not start (above)`);
      else console.log("config reloaded");
    }
    return r.ok && failed.length === 0 ? 0 : 1;
  },
});
