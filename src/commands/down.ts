import { notBuiltYet } from "../cli/errors.ts";
import { configArgs, defineGwCommand } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "down", description: "stop the running gw (streams in flight finish first)" },
  args: { ...configArgs },
  run() {
    notBuiltYet("down");
  },
});
