// Preloaded (`bun --preload`) by test/cli/startup-loads.test.ts: when gw exits, the files of the
// modules it loaded (gw's own and packages'; Bun's built-ins are not listed) go to $GW_LOADED_OUT.
import { writeFileSync } from "node:fs";

const out = process.env.GW_LOADED_OUT;
if (out) process.on("exit", () => writeFileSync(out, JSON.stringify(Object.keys(require.cache))));
