import { notBuiltYet } from "../cli/errors.ts";
import { configArgs, defineGwCommand } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "status", description: "instances, ports, states, restarts, cooling targets of the running gw" },
  args: { ...configArgs },
  run() {
    notBuiltYet("status");
  },
});
