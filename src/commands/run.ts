import { defineCommand } from "citty";
import { runAgent } from "../run/run.ts";

// gw run parses its own argv: everything it does not know goes to the agent untouched and in order.
export default defineCommand({
  meta: { name: "run", description: "start a coding agent (claude, codex, gemini) through the gateway: gw run AGENT [FILTER] [-y] [args…]" },
  run: ({ rawArgs }) => runAgent(rawArgs, process.env),
});
