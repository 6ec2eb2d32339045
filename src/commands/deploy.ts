import { deploy } from "../deploy/deploy.ts";
import { loadValidConfig } from "./_config.ts";
import { configArgs, defineGwCommand } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "deploy", description: "copy the right gw binary and this config to a host over ssh, start or upgrade gw there, roll back if it is not healthy" },
  args: {
    ...configArgs,
    host: { type: "positional", required: true, description: "[user@]host, or an alias from ~/.ssh/config ($GW_SSH_CONFIG: another config file)", valueHint: "[user@]host" },
    dir: { type: "string", description: "directory on the host, relative to the remote home (default: gw)", valueHint: "DIR" },
    service: { type: "boolean", description: "install or update the systemd unit (a user unit when not root)" },
    "dry-run": { type: "boolean", description: "only look at the host and print every step" },
  },
  async run({ args }) {
    const config = await loadValidConfig(args.config);
    await deploy({ destination: args.host, dir: args.dir ?? "gw", service: Boolean(args.service), dryRun: Boolean(args["dry-run"]), config, say: (l) => console.log(l) });
    return 0;
  },
});
