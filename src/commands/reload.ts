import { controlJson } from "../supervisor/control.ts";
import type { InstanceState } from "../supervisor/instance.ts";
import type { StatusReport } from "../supervisor/status.ts";
import { targetPaths } from "../supervisor/target.ts";
import { followReload } from "./_restarts.ts";
import { configArgs, defineGwCommand, jsonArgs, printJson } from "./_shared.ts";
import { typedIn } from "../supervisor/self.ts";
import { ABOUT } from "./index.ts";

/** Instance states in which it does not run (instance.ts): failed to start, or exited and waiting to try again. */
const NOT_RUNNING: ReadonlySet<string> = new Set<InstanceState>(["failed", "crashloop", "backoff"]);

export default defineGwCommand({
  meta: { name: "reload", description: ABOUT.reload },
  args: { ...configArgs, ...jsonArgs },
  async run({ args }) {
    const paths = await targetPaths(args.config, "reload");
    const { answer: r, restarted } = await followReload(paths, !!args.json);
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
