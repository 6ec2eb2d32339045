import { defineCommand } from "citty";
import { runAgent } from "../run/run.ts";
import { ABOUT } from "./index.ts";

// gw run parses its own argv: everything it does not know goes to the agent untouched and in order.
export default defineCommand({
  meta: { name: "run", description: ABOUT.run },
  run: ({ rawArgs }) => runAgent(rawArgs, process.env),
});
