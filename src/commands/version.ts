import { printVersion } from "../version.ts";
import { defineGwCommand, jsonArgs } from "./_shared.ts";
import { ABOUT } from "./index.ts";

export default defineGwCommand({
  meta: { name: "version", description: ABOUT.version },
  args: { ...jsonArgs },
  run: ({ args }) => printVersion(Boolean(args.json), true),
});
