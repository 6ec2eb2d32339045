import { notBuiltYet } from "../cli/errors.ts";
import { configArgs, defineGwCommand } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "usage", description: "tokens and estimated cost from the request logs" },
  args: { ...configArgs },
  run() {
    notBuiltYet("usage");
  },
});
