import { dirname } from "node:path";
import { parse as parseToml } from "smol-toml";
import { displayPath } from "../cli/display-path.ts";
import { CliError } from "../cli/errors.ts";
import { findConfigFile, loadConfig } from "../config/index.ts";
import { readSmallText } from "../fs/read-small.ts";
import type { CliproxyScope } from "../cliproxy/locate.ts";
import { describeCliproxy, installAndReport } from "../cliproxy/report.ts";
import { configArgs, defineGwCommand, jsonArgs, printJson } from "./_shared.ts";
import { typedIn } from "../supervisor/self.ts";
import { ABOUT } from "./index.ts";

export default defineGwCommand({
  meta: { name: "cliproxy", description: ABOUT.cliproxy },
  args: {
    ...configArgs,
    ...jsonArgs,
    action: { type: "positional", required: true, description: "install | version", valueHint: "install|version" },
    version: { type: "positional", required: false, description: "install: this release (default: the latest)", valueHint: "VERSION" },
    from: { type: "string", description: "install: a release archive on disk or at a URL (checksums.txt beside it is checked)", valueHint: "FILE|URL" },
  },
  async run({ args }) {
    if (args.action === "install") {
      const scope = await scopeOf(args.config, false);
      if (args.version && args.from) throw new CliError("give a VERSION or --from, not both", 1, "the version comes from the archive's name with --from");
      const say = args.json ? () => {} : (l: string) => console.error(l);
      const report = await installAndReport({ version: args.version, from: args.from, env: process.env, progress: say }, scope);
      if (args.json) printJson(report.data);
      else console.log(typedIn(report.text));
      return 0;
    }
    if (args.action === "version") {
      const scope = await scopeOf(args.config, true);
      const info = await describeCliproxy(scope, process.env);
      if (args.json) printJson(info.data);
      else console.log(typedIn(info.text));
      return info.data.found ? 0 : 1;
    }
    throw new CliError(`unknown action "${args.action}" for gw cliproxy`, 1, "use: gw cliproxy install [VERSION] [--from FILE|URL] · gw cliproxy version");
  },
});

/**
 * The config whose [global] cliproxy and directory count, when there is one. A config with errors
 * elsewhere (a newcomer's placeholder keys) still names its binary: the value is read as written.
 */
async function scopeOf(explicit: string | undefined, needed: boolean): Promise<CliproxyScope | null> {
  const file = findConfigFile(explicit);
  if (!file) return null;
  const { config } = await loadConfig(file);
  if (config || !needed) return config;
  const written = cliproxyAsWritten(file);
  if (written === null) throw new CliError(`${displayPath(file)} has errors, so its [global] cliproxy is unknown`, 1, "gw check lists them");
  return { dir: dirname(file), global: { cliproxy: written } };
}

/** `[global] cliproxy` as the file writes it ("" when unset), or null when that cannot be told (no TOML, a ${VAR}). */
function cliproxyAsWritten(file: string): string | null {
  const text = readSmallText(file); // the config did not load: it may be a FIFO, never to be waited on
  if (text === undefined) return null;
  try {
    const value = (parseToml(text).global as Record<string, unknown> | undefined)?.cliproxy ?? "";
    return typeof value === "string" && !value.includes("${") ? value : null;
  } catch {
    return null;
  }
}
