import { CliError } from "../cli/errors.ts";
import { controlJson, controlRequest, ndjsonLines, type ReloadAnswer } from "../supervisor/control.ts";
import type { InstanceState } from "../supervisor/instance.ts";
import type { StatusReport } from "../supervisor/status.ts";
import { targetPaths } from "../supervisor/target.ts";
import { followRestarts, type RestartLine } from "./_restarts.ts";
import { configArgs, defineGwCommand, jsonArgs, printJson } from "./_shared.ts";
import { typedIn } from "../supervisor/self.ts";

/** Instance states in which it does not run (instance.ts): failed to start, or exited and waiting to try again. */
const NOT_RUNNING: ReadonlySet<string> = new Set<InstanceState>(["failed", "crashloop", "backoff"]);

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
    // The config is in force either way; an instance of it that is not running is still something
    // to fix, so a script sees it as gw restart's caller does: exit 1. Heard as the reload's work,
    // or — when the file watcher applied the same edit first and its work has ended — from status.
    const heard = restarted.filter((x) => !x.ok).map((x) => x.name);
    const down = r.ok ? (await controlJson<StatusReport>(paths, "/status")).instances.filter((i) => NOT_RUNNING.has(i.state) && !heard.includes(i.name)) : [];
    const failed = [...heard, ...down.map((i) => i.name)];
    if (args.json) printJson({ ...r, restarted, notRunning: failed }, true);
    else {
      for (const p of r.problems) console.error(typedIn(p));
      for (const i of down) console.log(`${i.name}: ${i.problem || i.state}`);
      if (!r.ok) console.log("config not reloaded; gw keeps running the previous one");
      else if (failed.length > 0) console.log(`config reloaded, but ${failed.join(", ")} ${failed.length === 1 ? "is" : "are"} not running (above)`);
      else console.log("config reloaded");
    }
    return r.ok && failed.length === 0 ? 0 : 1;
  },
});
