import { notBuiltYet } from "../cli/errors.ts";
import { configArgs, defineGwCommand } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "login", description: "run an instance's CLIProxyAPI login flow (antigravity, codex, claude, ...)" },
  args: { ...configArgs },
  run() {
    notBuiltYet("login");
  },
});
