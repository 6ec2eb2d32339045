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
    body: { type: "positional", required: false, description: "request body file, or a model name (a one-message request for it); - or none reads stdin", valueHint: "BODY.json|MODEL" },
    path: { type: "string", description: "request path the body is posted to (default /v1/messages)", valueHint: "PATH" },
    session: { type: "string", description: "Claude Code session id (x-claude-code-session-id) the request carries", valueHint: "ID" },
  },
  async run({ args }) {
    if (args.action !== "explain") throw new CliError(`unknown action "${args.action}" for gw route`, 1, "use: gw route explain [BODY.json | MODEL | -] [--json]");
    const file = await readableConfigFile(args.config);
    const path = args.path ?? "/v1/messages";
    if (!path.startsWith("/")) throw new CliError(`--path ${path} is not a request path`, 1, "e.g. --path /v1/chat/completions");
    const text = await readBody(args.body, path);
    if (args.session === "") throw new CliError("--session is empty", 1, "give the session id, e.g. Claude Code's (its /status shows it)");
    const out = await explainForConfig(file, { body: text, path, session: args.session }, () => loadValidConfig(file));
    if ("error" in out) throw new CliError(`the LB would refuse this body: ${out.error}`, 1, "give a JSON request body, e.g. one from a request your client sent");
    if (args.json) printJson(out);
    else console.log(typedIn(formatExplanation(out)));
  },
});

async function readBody(name: string | undefined, path: string): Promise<string> {
  if (name && name !== "-") {
    // Read, not asked whether it exists: Bun.file().exists() is false for /dev/null and other devices.
    try {
      return await Bun.file(name).text();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && looksLikeModel(name)) {
        console.error(`gw: no file ${name}: explaining a one-message request for model "${name}"`);
        return JSON.stringify(oneMessageRequest(name, path));
      }
      const what = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (e as Error).message;
      throw new CliError(`${name}: ${what}`, 1, "give a request body file, a model name, or - to read it from stdin");
    }
  }
  const none = () => new CliError("no request body", 1, "gw route explain BODY.json (or MODEL), or pipe one in: … | gw route explain -");
  if (process.stdin.isTTY) throw none();
  // Nothing piped (</dev/null, a script's closed stdin): the same words, not the LB's verdict on an empty body.
  const body = await Bun.stdin.text();
  if (body.trim() === "") throw none();
  return body;
}

/** A name that is no file and reads as a model ("opus4.6", "openai/gpt-5"), not as a path that is missing. */
function looksLikeModel(name: string): boolean {
  return !/\.json$/i.test(name) && !/^[./~]/.test(name);
}

/** The smallest request for `model` in the dialect `path` speaks: what "how does MODEL route now?" asks. */
function oneMessageRequest(model: string, path: string): Record<string, unknown> {
  if (path.endsWith("/responses")) return { model, input: "hi" };
  return { model, max_tokens: 1024, messages: [{ role: "user", content: "hi" }] };
}
