import { currentSelf, install, uninstall } from "../install/install.ts";
import { defineGwCommand } from "./_shared.ts";
import { ABOUT } from "./index.ts";

export default defineGwCommand({
  meta: { name: "install", description: ABOUT.install },
  args: {
    prefix: { type: "string", description: "directory for gw and cld (default: ~/.local/bin); completions and the install record go to share/ beside it", valueHint: "DIR" },
    uninstall: { type: "boolean", description: "remove exactly what gw install put in place" },
  },
  async run({ args }) {
    if (args.uninstall) {
      const { removed, manifest } = uninstall(process.env, args.prefix);
      const none = `nothing to remove (no gw install record at ${manifest}${args.prefix ? "" : "; installed with --prefix DIR? pass it again"})`;
      console.log(removed.length ? removed.map((f) => `removed ${f}`).join("\n") : none);
      return 0;
    }
    const report = install(currentSelf(), process.env, args.prefix);
    console.log(report.written.map((f) => `installed ${f}`).join("\n"));
    for (const h of report.hints) console.log(h);
    return 0;
  },
});
