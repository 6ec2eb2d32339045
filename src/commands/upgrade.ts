import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { CliError } from "../cli/errors.ts";
import { controlFinal } from "../supervisor/control.ts";
import type { UpgradeResult } from "../supervisor/run.ts";
import { targetPaths } from "../supervisor/target.ts";
import { configArgs, defineGwCommand, jsonArgs } from "./_shared.ts";
import { ABOUT } from "./index.ts";

export default defineGwCommand({
  meta: { name: "upgrade", description: ABOUT.upgrade },
  args: {
    ...configArgs,
    ...jsonArgs,
    binary: { type: "positional", required: false, description: "the new gw binary (default: the running gw's own path, e.g. after replacing that file)", valueHint: "PATH" },
  },
  async run({ args }) {
    const paths = await targetPaths(args.config, "upgrade");
    const binary = args.binary ? resolve(args.binary) : undefined;
    if (binary && !(await Bun.file(binary).exists())) {
      const dir = await stat(binary).then((s) => s.isDirectory(), () => false);
      throw new CliError(dir ? `${binary} is a directory` : `no such file: ${binary}`, 1, dir ? `give the gw binary in it: gw upgrade ${binary.replace(/\/$/, "")}/gw` : "give the path of the new gw binary");
    }
    const query = binary ? `?binary=${encodeURIComponent(binary)}` : "";
    if (!args.json) console.error(`upgrading the gw running for ${paths.dir}…`);
    const out = await controlFinal<UpgradeResult>(paths, `/upgrade${query}`, { method: "POST" });
    if (args.json) console.log(JSON.stringify(out));
    else if (out.ok) {
      console.log(`gw ${out.version} (${out.commit?.slice(0, 12)}) serves now as pid ${out.pid}; the old gw finishes its streams in flight and exits`);
      if (out.older) console.error(`gw: note: ${out.version} is older than the gw it replaced (${out.older}): a rollback; to go forward again, gw upgrade NEWER-BINARY`);
    }
    else console.error(`gw: upgrade failed: ${out.problem}`);
    return out.ok ? 0 : 1;
  },
});
