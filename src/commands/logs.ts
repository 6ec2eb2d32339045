import { notBuiltYet } from "../cli/errors.ts";
import { configArgs, defineGwCommand } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "logs", description: "show gw's or an instance's log (-f to follow)" },
  args: { ...configArgs },
  run() {
    notBuiltYet("logs");
  },
});
