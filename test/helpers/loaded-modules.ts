// Preloaded (`bun --preload`) by test/cli/startup-loads.test.ts: the files of the modules gw has
// loaded (its own and packages'; Bun's built-ins are not listed) go to $GW_LOADED_OUT as JSON
// `{ at, modules }`, when gw exits (`at: "exit"`) or when it replaces itself (`at: "execve"`: the
// new program runs without this preload, so the list is the one from before the re-exec).
import { writeFileSync } from "node:fs";

const out = process.env.GW_LOADED_OUT;
const record = (at: "exit" | "execve") => out && writeFileSync(out, JSON.stringify({ at, modules: Object.keys(require.cache) }));
process.on("exit", () => record("exit"));
const execve = (process as unknown as { execve?: (...args: unknown[]) => never }).execve;
if (execve) {
  Object.assign(process, {
    execve: (...args: unknown[]) => {
      record("execve");
      return execve.apply(process, args);
    },
  });
}
