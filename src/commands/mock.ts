import { defineCommand } from "citty";
import { notBuiltYet } from "../cli/errors.ts";

// mock takes the real CLIProxyAPI's single-dash flags (-config FILE), so it parses argv itself.
export default defineCommand({
  meta: { name: "mock", description: "a faithful stand-in for a CLIProxyAPI instance (tests, demo, benchmarks)" },
  run() {
    notBuiltYet("mock");
  },
});
