import { CliError } from "../cli/errors.ts";
import { deploy } from "../deploy/deploy.ts";
import { loadValidConfig, requireRealConfigFile } from "./_config.ts";
import { configArgs, defineGwCommand, jsonArgs, printJson } from "./_shared.ts";
import { ABOUT } from "./index.ts";

export default defineGwCommand({
  meta: { name: "deploy", description: ABOUT.deploy },
  args: {
    ...configArgs,
    ...jsonArgs,
    host: { type: "positional", required: true, description: "[user@]host, or an alias from ~/.ssh/config ($GW_SSH_CONFIG: another config file)", valueHint: "[user@]host" },
    dir: { type: "string", description: "directory on the host, relative to the remote home (default: gw)", valueHint: "DIR" },
    service: { type: "boolean", description: "install or update the systemd unit (a user unit when not root)" },
    "dry-run": { type: "boolean", description: "only look at the host and print every step" },
  },
  async run({ args }) {
    const config = await loadValidConfig(requireRealConfigFile(args.config, "deploy copies the config file and the .env beside it to the host"));
    // With --json the steps still show, on stderr; stdout is the one result document.
    const say = args.json ? (l: string) => console.error(l) : (l: string) => console.log(l);
    try {
      const result = await deploy({ destination: args.host, dir: args.dir ?? "gw", service: Boolean(args.service), dryRun: Boolean(args["dry-run"]), config, say });
      if (args.json) printJson({ ok: true, ...result }, true);
      return 0;
    } catch (err) {
      // A deploy that failed on the way (host unreachable, rejected there, rolled back) is a result.
      if (!args.json || !(err instanceof CliError)) throw err;
      printJson({ ok: false, host: args.host, problem: err.message, hint: err.hint ?? null }, true);
      return err.exitCode;
    }
  },
});
