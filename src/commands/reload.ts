import { controlJson } from "../supervisor/control.ts";
import { targetPaths } from "../supervisor/target.ts";
import { configArgs, defineGwCommand, jsonArgs, printJson } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "reload", description: "re-read the config: rewrite instance YAML, swap the LB config, start/stop/restart changed instances" },
  args: { ...configArgs, ...jsonArgs },
  async run({ args }) {
    const r = await controlJson<{ ok: boolean; problems: string[] }>(targetPaths(args.config), "/reload", { method: "POST" });
    if (args.json) printJson(r, true);
    else {
      for (const p of r.problems) console.error(p);
      console.log(r.ok ? "config reloaded" : "config not reloaded; gw keeps running the previous one");
    }
    return r.ok ? 0 : 1;
  },
});
