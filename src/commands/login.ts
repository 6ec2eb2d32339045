import { didYouMean } from "../config/suggest.ts";
import { CliError } from "../cli/errors.ts";
import { withInstanceKeys } from "../instances/index.ts";
import { syncInstanceFiles } from "./_instance-files.ts";
import { loginArgv, LOGIN_PROVIDERS, noProviderNamed, runLogin } from "../supervisor/login.ts";
import { loadValidConfig, printProblems } from "./_config.ts";
import { configArgs, defineGwCommand } from "./_shared.ts";
import { typedIn } from "../supervisor/self.ts";
import { ABOUT } from "./index.ts";

export default defineGwCommand({
  meta: { name: "login", description: ABOUT.login },
  args: {
    ...configArgs,
    name: { type: "positional", required: true, description: "instance", valueHint: "NAME" },
    // Left out, the instance's own logins are listed (once the config says which they are).
    provider: { type: "positional", required: false, description: LOGIN_PROVIDERS.join(" | "), valueHint: "PROVIDER" },
    browser: { type: "boolean", default: true, description: "open a browser (--no-browser: print the URL instead)" },
    "project-id": { type: "string", description: "gemini only: the Google Cloud project (CLIProxyAPI's -project_id)", valueHint: "ID" },
  },
  async run({ args }) {
    const config = await withInstanceKeys(await loadValidConfig(args.config, { instance: args.name }));
    const inst = config.instances.find((i) => i.name === args.name);
    if (!inst) {
      const names = config.instances.map((i) => i.name);
      const near = didYouMean(args.name, names);
      throw new CliError(`no instance '${args.name}' in ${config.file}`, 1, `${near ? `did you mean '${near}'? ` : ""}instances: ${names.join(", ")}`);
    }
    if (!inst.managed) throw new CliError(`instance '${inst.name}' is given by url; gw does not run it`, 1, "log in on the machine that runs it");
    if (!args.provider) throw noProviderNamed(config, inst);
    const argv = loginArgv(config, inst, args.provider, args.browser, process.env, args["project-id"]);
    // The login runs CLIProxyAPI on the instance's own file: the config's (a running gw that runs
    // the instance reloads only when it is not yet, and its refusal stops the login).
    printProblems({ config, problems: (await syncInstanceFiles(config, false, inst.name)).warnings ?? [] });
    console.log(typedIn(await runLogin(config, inst, args.provider, argv, process.env)));
  },
});
