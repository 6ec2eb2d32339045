import { notBuiltYet } from "../cli/errors.ts";
import { configArgs, defineGwCommand } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "check", description: "validate providers.toml and print every problem" },
  args: { ...configArgs },
  run() {
    notBuiltYet("check");
  },
});
