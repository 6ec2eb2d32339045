import { CliError } from "../cli/errors.ts";
import { controlRequest } from "../supervisor/control.ts";
import { targetPaths } from "../supervisor/target.ts";
import { configArgs, defineGwCommand, jsonArgs } from "./_shared.ts";

export default defineGwCommand({
  meta: { name: "logs", description: "show the logs of gw and its instances (-f: follow)" },
  args: {
    ...configArgs,
    ...jsonArgs,
    name: { type: "positional", required: false, description: "an instance, or gw (default: all)" },
    follow: { type: "boolean", alias: "f", description: "keep printing new lines" },
    lines: { type: "string", alias: "n", description: "lines of each log to show first (default 20)", valueHint: "N" },
  },
  async run({ args }) {
    const n = args.lines === undefined ? 20 : Number(args.lines);
    if (!Number.isInteger(n) || n < 0) throw new CliError(`-n ${args.lines} is not a line count`, 1, "give a whole number, e.g. -n 100");
    const query = new URLSearchParams({ n: String(n), ...(args.name ? { name: args.name } : {}), ...(args.follow ? { follow: "1" } : {}) });
    const res = await controlRequest(targetPaths(args.config), `/logs?${query}`);
    const prefix = !args.name;
    let rest = "";
    const decoder = new TextDecoder();
    for await (const chunk of res.body!) {
      const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = lines.pop() ?? "";
      for (const l of lines) {
        if (!l) continue;
        const { name, line } = JSON.parse(l) as { name: string; line: string };
        console.log(args.json ? l : prefix ? `${name} | ${line}` : line);
      }
    }
  },
});
