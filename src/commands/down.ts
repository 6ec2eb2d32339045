import { CliError } from "../cli/errors.ts";
import { controlJson, type DownAnswer, NotRunningError } from "../supervisor/control.ts";
import { HAND_OVER_MAX_MS } from "../supervisor/handover.ts";
import type { GwPaths } from "../supervisor/paths.ts";
import { stillRunning, stopLeftovers } from "../supervisor/orphans.ts";
import { procInfo } from "../supervisor/proc.ts";
import { commandFor, targetPaths } from "../supervisor/target.ts";
import { DEFAULT_TIMING } from "../supervisor/timing.ts";
import { configArgs, defineGwCommand, jsonArgs, printJson } from "./_shared.ts";
import { typed } from "../supervisor/self.ts";
import { ABOUT } from "./index.ts";

/** gw itself waits up to the grace period plus the instances' kill wait (and for an upgrade's previous gw: answer.previous); give it a margin. */
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
    const say = (human: string, data: object) => (args.json ? printJson(data, true) : console.log(human));
    if (args["after-crash"]) {
      // The watchdog's: the dead gw's folder, whatever another gw there serves now.
      const paths = await targetPaths(args.config);
      const left = await stopLeftovers(paths, DEFAULT_TIMING.killWaitMs, Number(args["after-crash"]));
      if (left.length) say(`gw (pid ${args["after-crash"]}) died; its watchdog stopped the instances it left running: ${left.join(", ")}`, { leftovers: left });
      return 0;
    }
    const paths = await targetPaths(args.config, "down");
    try {
      const { pid, ...answer } = await askDown(paths, args.json ? () => {} : console.log);
      if (!args.json) console.log(stoppingLine(pid, answer));
      const previous = answer.previous;
      if (previous && !args.json) console.log(`waiting for the previous gw (pid ${previous.pid}) first: it is still letting its streams finish on these instances (up to ${Math.ceil(previous.waitMs / 1000)} s)…`);
      const deadline = performance.now() + DOWN_WAIT_MS + (previous?.waitMs ?? 0);
      while ((await procInfo(pid)) && performance.now() < deadline) await Bun.sleep(100);
      const stopped = (await procInfo(pid)) === null;
      say(stopped ? `gw stopped (pid ${pid})` : `gw (pid ${pid}) is still stopping; see ${typed("gw logs")}`, { stopped, pid, ...(previous && { previous }) });
      return stopped ? 0 : 1;
    } catch (err) {
      // A gw lb serving this config is not stopped by down (it has no control socket): said, exit 1.
      if (!(err instanceof NotRunningError) || err.lb) throw err;
      // A gw killed with SIGKILL can leave its instances behind: stopping them is what down is for.
      const leftovers = await stopLeftovers(paths, DEFAULT_TIMING.killWaitMs);
      const extra = leftovers.length ? `; stopped instances a dead gw left running: ${leftovers.join(", ")}` : "";
      if (err.others.length === 0) {
        say(`${err.message}${extra}`, { stopped: false, running: false, leftovers });
        return 0;
      }
      // Another folder's gw is named with the command that stops it, and nothing stopped is no
      // success: \`gw down && …\` in the wrong folder went on as if that gw had stopped.
      const [one] = err.others;
      const reach = err.others.length === 1 ? `to stop it: ${commandFor("down", one!.config)}` : `to stop one: ${typed("gw down -c FILE")}`;
      if (args.json) printJson({ stopped: false, running: false, leftovers, others: err.others.map((g) => ({ pid: g.pid, config: g.config })) }, true);
      else console.error(`gw: ${err.message}${extra}\n  ${reach}`);
      return 1;
    }
  },
});

type Answer = { pid: number } & Partial<DownAnswer>;

/**
 * Ask gw to stop. While an upgrade hands over, the instances are neither gw's alone and nothing
 * stops (supervisor/hand-over-gate.ts): ask again until it has ended, and the gw that owns them
 * then answers — the new one, or the old one if the upgrade failed.
 */
async function askDown(paths: GwPaths, say: (line: string) => void): Promise<Answer> {
  const deadline = performance.now() + HAND_OVER_MAX_MS;
  let waiting: Answer | undefined;
  for (;;) {
    try {
      const answer = await controlJson<Answer>(paths, "/down", { method: "POST" });
      if (!answer.handingOver) return answer;
      if (!waiting) say(`gw (pid ${answer.pid}) is handing over to a new gw (gw upgrade); stopping the gw that owns the instances once that has ended…`);
      waiting = answer;
    } catch (err) {
      if (!waiting || !(err instanceof NotRunningError)) throw err;
      // No socket: a moment while the old gw takes it back after a failed upgrade — or no gw left
      // at all (a new gw that died before its verdict, its predecessor gone): then the instances
      // are nobody's, and down stops them as a dead gw's (its caller).
      if (!(await handOverLives(waiting))) throw err;
    }
    if (performance.now() > deadline) throw new CliError(`gw (pid ${waiting.pid}) has been handing over to a new gw for ${HAND_OVER_MAX_MS / 1000} s`, 1, `see ${typed("gw logs")}, then run ${typed("gw down")} again`);
    await Bun.sleep(HAND_OVER_POLL_MS);
  }
}

const HAND_OVER_POLL_MS = 200;

/** Whether a gw of the hand-over that answered `a` still runs: the one that answered, or the old one it named. */
async function handOverLives(a: Answer): Promise<boolean> {
  return (await procInfo(a.pid)) !== null || (a.from !== undefined && (await stillRunning(a.from)));
}

/** What gw does now; a gw from before the answer said it (an upgrade's old one) answers with its pid alone. */
function stoppingLine(pid: number, a: Partial<DownAnswer>): string {
  const n = a.streams ?? 0;
  const streams = `${n} stream${n === 1 ? "" : "s"} in flight`;
  if (a.cut) return `gw (pid ${pid}) was stopping: cutting ${n ? `its ${streams}` : "what is in flight"} now…`;
  if (a.streams === undefined) return `stopping gw (pid ${pid}): streams in flight may finish first…`;
  if (n === 0) return `stopping gw (pid ${pid})…`;
  return `stopping gw (pid ${pid}): ${streams} may finish first (up to ${Math.round((a.graceMs ?? 0) / 1000)} s; ${typed("gw down")} again cuts ${n === 1 ? "it" : "them"})…`;
}
