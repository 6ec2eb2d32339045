import { controlJson } from "../supervisor/control.ts";
import { formatStatus } from "../supervisor/format.ts";
import type { StatusReport } from "../supervisor/status.ts";
import { targetPaths } from "../supervisor/target.ts";
import { configArgs, defineGwCommand, jsonArgs } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "status", description: "instances, load balancer and cooling targets of the running gw" },
  args: { ...configArgs, ...jsonArgs },
  async run({ args }) {
    const report = await controlJson<StatusReport>(targetPaths(args.config), "/status");
    console.log(args.json ? JSON.stringify(report, null, 2) : formatStatus(report));
  },
});
