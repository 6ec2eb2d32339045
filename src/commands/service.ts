import { CliError } from "../cli/errors.ts";
import { pipedStdout } from "../cli/stdio.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { ensurePrivateDir } from "../fs/private.ts";
import { serviceUnit, thisHost } from "../supervisor/service.ts";
import { serviceWarnings } from "../supervisor/service-check.ts";
import { loadValidConfig, requireRealConfigFile } from "./_config.ts";
import { configArgs, defineGwCommand } from "./_shared.ts";
import { typedIn } from "../supervisor/self.ts";
import { ABOUT } from "./index.ts";

export default defineGwCommand({
  meta: { name: "service", description: ABOUT.service },
  args: {
    ...configArgs,
    action: { type: "positional", required: true, description: "install", valueHint: "install" },
    write: { type: "boolean", description: "write the unit file instead of printing it" },
  },
  async run({ args }) {
    if (args.action !== "install") throw new CliError(`unknown action "${args.action}" for gw service`, 1, "use: gw service install [--write]");
    const config = await loadValidConfig(requireRealConfigFile(args.config, "the service runs gw up -c FILE at every start, and needs a file it can read again"));
    const host = thisHost();
    const unit = serviceUnit(config.file, config.dir, config.global.shutdownGraceMs, host);
    for (const line of await serviceWarnings(config, process.env, host)) console.error(`gw: warning: ${typedIn(line)}`);
    if (!args.write) {
      pipedStdout().write(unit.text);
      console.error(typedIn(`# gw service install --write puts this in ${unit.path}; then: ${unit.enable}`));
      return;
    }
    for (const dir of unit.dirs) ensurePrivateDir(dir);
    const before = await Bun.file(unit.path).text().catch(() => null);
    if (before === unit.text) return void console.log(`${unit.path} is up to date`);
    // One service per user: rewriting one that serves another config would drop that gw at its next restart.
    if (before !== null && !before.includes(unit.serves)) {
      throw new CliError(`${unit.path} already holds a service that is not gw for ${config.file}: gw leaves it as it is`, 1, "look at what it runs; to have gw serve this config instead, stop that service and remove the file, then run this again");
    }
    await writeFileAtomic(unit.path, unit.text); // a whole unit or the old one; a link there is replaced, not followed
    // A service already running keeps the old file's settings until it is restarted.
    console.log(typedIn(before === null ? `wrote ${unit.path}\nnext: ${unit.enable}` : `updated ${unit.path}\nnext (if it runs): ${unit.update}`));
  },
});
