import { notBuiltYet } from "../cli/errors.ts";
import { configArgs, defineGwCommand } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "restart", description: "restart one instance or all, rolling" },
  args: { ...configArgs },
  run() {
    notBuiltYet("restart");
  },
});
