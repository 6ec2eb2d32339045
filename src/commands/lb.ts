import { notBuiltYet } from "../cli/errors.ts";
import { configArgs, defineGwCommand } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "lb", description: "serve the load balancer alone, against instances already running" },
  args: { ...configArgs },
  run() {
    notBuiltYet("lb");
  },
});
