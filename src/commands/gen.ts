import { notBuiltYet } from "../cli/errors.ts";
import { configArgs, defineGwCommand } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "gen", description: "write instances/NAME.yaml for every instance gw starts" },
  args: { ...configArgs },
  run() {
    notBuiltYet("gen");
  },
});
