import { notBuiltYet } from "../cli/errors.ts";
import { configArgs, defineGwCommand } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "up", description: "check the config, write instance YAML, start instances, serve the load balancer (-d: detach)" },
  args: { ...configArgs },
  run() {
    notBuiltYet("up");
  },
});
