// Following a control answer that reports restarts as they happen (`gw restart`, and `gw reload`
// when it relaunches an instance): one NDJSON line per step, then the command's own answer.
import { CliError } from "../cli/errors.ts";
import { waitingOnly } from "../cli/interrupt.ts";
import { controlLines, type ReloadAnswer } from "../supervisor/control.ts";
import { restartLine } from "../supervisor/format.ts";
import type { RestartProgress, RestartResult } from "../supervisor/instances.ts";
import type { GwPaths } from "../supervisor/paths.ts";

/** A line of such an answer: a step, the answer `A`, or the error that ends it. */
export type RestartLine<A> = RestartProgress | A | { error: string };

/**
 * The answer to `request`: each step printed as it comes (not for --json), an `{error}` line
 * raised; the answer and what was restarted. `what` (restart, reload) is what gw goes on with when the user presses Ctrl-C.
 */
export async function followRestarts<A extends object>(request: () => Promise<AsyncIterable<RestartLine<A>> | Iterable<RestartLine<A>>>, quiet: boolean, what: string): Promise<{ answer: A | undefined; restarted: RestartResult[] }> {
  let answer: A | undefined;
  const restarted: RestartResult[] = [];
  const follow = async () => {
    for await (const line of await request()) {
      if ("error" in line) throw new CliError(line.error);
      if (!("event" in line)) {
        answer = line as A;
        continue;
      }
      if (line.event === "restarted") restarted.push(line.result);
      if (!quiet) console.log(restartLine(line));
    }
  };
  await waitingOnly(follow, () => `gw: stopped following; the running gw goes on with the ${what}\n  see how it ends with: gw status · gw logs`);
  return { answer, restarted };
}

/**
 * Ask the running gw to reload its config, and follow it to its answer: an instance the reload
 * relaunches is drained first (up to shutdown_grace_ms), its progress printed as gw restart's is
 * (not when `quiet`). A gw from before progress lines answers with the JSON alone.
 */
export async function followReload(paths: GwPaths, quiet: boolean): Promise<{ answer: ReloadAnswer; restarted: RestartResult[] }> {
  const request = () => controlLines<RestartLine<ReloadAnswer>>(paths, "/reload", { method: "POST" });
  const { answer, restarted } = await followRestarts<ReloadAnswer>(request, quiet, "reload");
  if (!answer) throw new CliError("gw ended the reload without an answer", 1, "see gw logs");
  return { answer, restarted };
}
