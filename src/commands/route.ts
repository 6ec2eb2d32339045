import { CliError } from "../cli/errors.ts";
import { formatExplanation } from "../lb/router/explain.ts";
import { explainForConfig } from "../supervisor/explain.ts";
import { loadValidConfig, readableConfigFile } from "./_config.ts";
import { configArgs, defineGwCommand, jsonArgs, printJson } from "./_shared.ts";
import { typedIn } from "../supervisor/self.ts";
import { ABOUT } from "./index.ts";

export default defineGwCommand({
  meta: { name: "route", description: ABOUT.route },
  args: {
    ...configArgs,
    ...jsonArgs,
    action: { type: "positional", required: true, description: "explain", valueHint: "explain" },
    body: { type: "positional", required: false, description: "request body file; - or none reads stdin", valueHint: "BODY.json" },
    path: { type: "string", description: "request path the body is posted to (default /v1/messages)", valueHint: "PATH" },
    session: { type: "string", description: "Claude Code session id (x-claude-code-session-id) the request carries", valueHint: "ID" },
  },
  async run({ args }) {
    if (args.action !== "explain") throw new CliError(`unknown action "${args.action}" for gw route`, 1, "use: gw route explain [BODY.json | -] [--json]");
    const file = await readableConfigFile(args.config);
    const text = await readBody(args.body);
    const path = args.path ?? "/v1/messages";
    if (!path.startsWith("/")) throw new CliError(`--path ${path} is not a request path`, 1, "e.g. --path /v1/chat/completions");
    if (args.session === "") throw new CliError("--session is empty", 1, "give the session id, e.g. Claude Code's (its /status shows it)");
    const out = await explainForConfig(file, { body: text, path, session: args.session }, () => loadValidConfig(file));
    if ("error" in out) throw new CliError(`the LB would refuse this body: ${out.error}`, 1, "give a JSON request body, e.g. one from a request your client sent");
    if (args.json) printJson(out);
    else console.log(typedIn(formatExplanation(out)));
  },
});

async function readBody(name: string | undefined): Promise<string> {
  if (name && name !== "-") {
    // Read, not asked whether it exists: Bun.file().exists() is false for /dev/null and other devices.
    try {
      return await Bun.file(name).text();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const what = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (e as Error).message;
      throw new CliError(`${name}: ${what}`, 1, "give a request body file, or - to read it from stdin");
    }
  }
  if (process.stdin.isTTY) throw new CliError("no request body", 1, "gw route explain BODY.json, or pipe one in: … | gw route explain -");
  return Bun.stdin.text();
}
