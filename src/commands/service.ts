import { CliError } from "../cli/errors.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { systemdUnit } from "../supervisor/service.ts";
import { loadValidConfig } from "./_config.ts";
import { configArgs, defineGwCommand } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "service", description: "service install: print (or --write) a systemd unit that runs gw up for this config" },
  args: {
    ...configArgs,
    action: { type: "positional", required: true, description: "install", valueHint: "install" },
    write: { type: "boolean", description: "write the unit file instead of printing it" },
  },
  async run({ args }) {
    if (args.action !== "install") throw new CliError(`unknown action "${args.action}" for gw service`, 1, "use: gw service install [--write]");
    const config = await loadValidConfig(args.config);
    const unit = systemdUnit(config.file, config.dir, config.global.shutdownGraceMs);
    if (!args.write) {
      process.stdout.write(unit.text);
      console.error(`# gw service install --write puts this in ${unit.path}; then: ${unit.enable}`);
      return;
    }
    await writeFileAtomic(unit.path, unit.text); // a whole unit or the old one; a link there is replaced, not followed
    console.log(`wrote ${unit.path}\nnext: ${unit.enable}`);
  },
});
