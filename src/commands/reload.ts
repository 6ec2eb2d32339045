import { notBuiltYet } from "../cli/errors.ts";
import { configArgs, defineGwCommand } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "reload", description: "re-read the config and swap it in without dropping streams" },
  args: { ...configArgs },
  run() {
    notBuiltYet("reload");
  },
});
