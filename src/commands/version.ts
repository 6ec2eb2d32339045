import { buildInfo, formatBuildInfo } from "../version.ts";
import { defineGwCommand, jsonArgs } from "./_shared.ts";

/** `gw --version` prints the bare version (scripts compare it); `--json` and `gw version` say more. */
export function printVersion(json: boolean, long = false): number {
  const info = buildInfo();
  console.log(json ? JSON.stringify(info) : long ? formatBuildInfo(info) : info.version);
  return 0;
}

export default defineGwCommand({
  meta: { name: "version", description: "version, git commit, build date and target of this gw (--json for scripts)" },
  args: { ...jsonArgs },
  run: ({ args }) => printVersion(Boolean(args.json), true),
});
