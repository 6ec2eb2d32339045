import { notBuiltYet } from "../cli/errors.ts";
import { configArgs, defineGwCommand } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "install", description: "put gw and a cld link on PATH, with shell completions" },
  args: { ...configArgs },
  run() {
    notBuiltYet("install");
  },
});
