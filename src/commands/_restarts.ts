// Following a control answer that reports restarts as they happen (`gw restart`, and `gw reload`
// when it relaunches an instance): one NDJSON line per step, then the command's own answer.
import { CliError } from "../cli/errors.ts";
import { restartLine } from "../supervisor/format.ts";
import type { RestartProgress, RestartResult } from "../supervisor/instances.ts";

/** A line of such an answer: a step, the answer `A`, or the error that ends it. */
export type RestartLine<A> = RestartProgress | A | { error: string };

/** Each step printed as it comes (not for --json), an `{error}` line raised; the answer and what was restarted. */
export async function followRestarts<A extends object>(lines: AsyncIterable<RestartLine<A>> | Iterable<RestartLine<A>>, quiet: boolean): Promise<{ answer: A | undefined; restarted: RestartResult[] }> {
  let answer: A | undefined;
  const restarted: RestartResult[] = [];
  for await (const line of lines) {
    if ("error" in line) throw new CliError(line.error);
    if (!("event" in line)) {
      answer = line as A;
      continue;
    }
    if (line.event === "restarted") restarted.push(line.result);
    if (!quiet) console.log(restartLine(line));
  }
  return { answer, restarted };
}
