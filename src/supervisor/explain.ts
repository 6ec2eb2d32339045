// `gw route explain`'s answer: from the gw running for this config when there is one — its own
// config and live state, over the control socket (read-only there) — else decided here on fresh
// state, which says so. A user asking "why did my request go there" needs the first: fresh state
// knows no cooling target, no sticky session, no streak.

import { dirname, resolve } from "node:path";
import { CliError } from "../cli/errors.ts";
import type { Config } from "../config/types.ts";
import { type Explanation, explainBody } from "../lb/router/explain.ts";
import { controlJson, type ExplainRequest, NotRunningError } from "./control.ts";
import { gwPaths } from "./paths.ts";
import { listRunning } from "./registry.ts";

export async function explainForConfig(configFile: string, input: ExplainRequest, load: () => Promise<Config>): Promise<Explanation | { error: string }> {
  const file = resolve(configFile);
  let note: string | undefined;
  try {
    return await controlJson<Explanation | { error: string }>(gwPaths(dirname(file)), "/explain", { method: "POST", body: JSON.stringify(input) });
  } catch (err) {
    // A gw started from an older binary does not know the request (until `gw upgrade`).
    if (err instanceof CliError && err.message.startsWith("unknown control request")) note = "the running gw is older than this one and cannot be asked for its state (gw upgrade fixes that)";
    else if (!(err instanceof NotRunningError)) throw err;
  }
  // `gw lb` keeps no control socket: its state cannot be read from outside, so say it was not used.
  const lb = note ? undefined : (await listRunning()).find((g) => g.kind === "lb" && g.config === file);
  note ??= lb ? `gw lb pid ${lb.pid} serves this config but cannot be asked for its state` : "no gw running for this config";
  return explainBody(await load(), input.body, { path: input.path, session: input.session, note });
}
