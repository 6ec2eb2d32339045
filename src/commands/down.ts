import { controlJson, NotRunningError } from "../supervisor/control.ts";
import { stopLeftovers } from "../supervisor/orphans.ts";
import { procInfo } from "../supervisor/proc.ts";
import { targetPaths } from "../supervisor/target.ts";
import { DEFAULT_TIMING } from "../supervisor/timing.ts";
import { configArgs, defineGwCommand, jsonArgs, printJson } from "./_shared.ts";
import { typed } from "../supervisor/self.ts";
import { ABOUT } from "./index.ts";

/** gw itself waits up to the grace period plus the instances' kill wait; give it a margin. */
const DOWN_WAIT_MS = 120_000;

export default defineGwCommand({
  meta: { name: "down", description: ABOUT.down },
  args: {
    ...configArgs,
    ...jsonArgs,
    "after-crash": { type: "string", description: "(gw's watchdog) only stop the instances the dead gw PID left", valueHint: "PID" },
  },
  internalArgs: ["after-crash"],
  async run({ args }) {
    const paths = targetPaths(args.config);
    const say = (human: string, data: object) => (args.json ? printJson(data, true) : console.log(human));
    if (args["after-crash"]) {
      const left = await stopLeftovers(paths, DEFAULT_TIMING.killWaitMs, Number(args["after-crash"]));
      if (left.length) say(`gw (pid ${args["after-crash"]}) died; its watchdog stopped the instances it left running: ${left.join(", ")}`, { leftovers: left });
      return 0;
    }
    try {
      const { pid } = await controlJson<{ pid: number }>(paths, "/down", { method: "POST" });
      if (!args.json) console.log(`stopping gw (pid ${pid}): streams in flight may finish first…`);
      const deadline = performance.now() + DOWN_WAIT_MS;
      while ((await procInfo(pid)) && performance.now() < deadline) await Bun.sleep(100);
      const stopped = (await procInfo(pid)) === null;
      say(stopped ? `gw stopped (pid ${pid})` : `gw (pid ${pid}) is still stopping; see ${typed("gw logs")}`, { stopped, pid });
      return stopped ? 0 : 1;
    } catch (err) {
      if (!(err instanceof NotRunningError)) throw err;
      // A gw killed with SIGKILL can leave its instances behind: stopping them is what down is for.
      const leftovers = await stopLeftovers(paths, DEFAULT_TIMING.killWaitMs);
      const extra = leftovers.length ? `; stopped instances a dead gw left running: ${leftovers.join(", ")}` : "";
      // Another folder's gw is named with how to reach it: "not running" alone reads as "it is down".
      const elsewhere = err.others.length ? `\n  ${err.hint}` : "";
      say(`${err.message}${extra}${elsewhere}`, { stopped: false, running: false, leftovers });
      return 0;
    }
  },
});
