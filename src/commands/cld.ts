import { defineCommand } from "citty";
import { runCld } from "../cld/run.ts";

// cld parses its own argv: everything it does not know goes to claude untouched and in order.
export default defineCommand({
  meta: { name: "cld", description: "launch Claude Code through the gateway (cp), Antigravity (ag) or officially" },
  run: ({ rawArgs }) => runCld(rawArgs, process.env),
});
