import { notBuiltYet } from "../cli/errors.ts";
import { configArgs, defineGwCommand } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "service", description: "print or write a systemd unit for gw up" },
  args: { ...configArgs },
  run() {
    notBuiltYet("service");
  },
});
