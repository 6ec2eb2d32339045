import type { CommandDef } from "citty";
import { runCld } from "../cld/run.ts";
import { ABOUT } from "./index.ts";

// cld parses its own argv: everything it does not know goes to claude untouched and in order.
// A plain definition (citty's defineCommand only returns it): cld never loads citty.
export default {
  meta: { name: "cld", description: ABOUT.cld },
  run: ({ rawArgs }) => runCld(rawArgs, process.env),
} satisfies CommandDef;
