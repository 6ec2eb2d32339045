import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { displayPath } from "../cli/display-path.ts";
import { CliError } from "../cli/errors.ts";
import { shellQuote } from "../cli/shell-word.ts";
import { installHint, selfDisplay } from "../supervisor/self.ts";
import { writeStarter } from "../config/starter.ts";
import { fsWhy } from "../fs/why.ts";
import { defineGwCommand, jsonArgs, printJson } from "./_shared.ts";
import { notRenamed } from "./_config.ts";
import { ABOUT } from "./index.ts";

export default defineGwCommand({
  meta: { name: "init", description: ABOUT.init },
  args: {
    dir: { type: "positional", required: false, description: "where to write them (default: here)", valueHint: "DIR" },
    ...jsonArgs,
  },
  async run({ args }) {
    const dir = resolve(args.dir ?? ".");
    // A fresh example beside the user's edited one would leave their edits unread for good.
    if (!existsSync(join(dir, "providers.toml"))) {
      const edited = notRenamed(dir);
      if (edited) throw edited;
    }
    const written = await writeStarter(dir).catch((err: NodeJS.ErrnoException) => {
      // mkdir says EEXIST for a file at DIR, ENOTDIR for a file on the way to it
      const inTheWay = err.code === "EEXIST" || err.code === "ENOTDIR";
      const why = inTheWay ? "a file is in the way, not a directory" : (fsWhy(err) ?? `the system refused the write (${err.code ?? err.message})`);
      // Any other failure (/proc/1: ENOENT, a mount that takes no new files) has the same way out.
      throw new CliError(`cannot write in ${displayPath(dir)}: ${why}`, 1, `${inTheWay ? "move that file away, or pick" : "pick"} a directory you may write in: ${selfDisplay()} init DIR`);
    });
    const toml = resolve(dir, "providers.toml");
    // gw check and gw up look for providers.toml where they run: from elsewhere they are told where it is
    const withConfig = dir === process.cwd() ? "" : ` -c ${shellQuote(displayPath(toml))}`;
    const gw = selfDisplay();
    const again = `${gw} init${args.dir === undefined ? "" : ` ${shellQuote(displayPath(dir))}`}`;
    if (!written) throw new CliError(`${displayPath(toml)} exists already: gw init never overwrites it`, 1, `check it with: ${gw} check${withConfig}; or move it away and run ${again} again`);
    if (args.json) return printJson(written);
    const env = written[1]!;
    console.log(`wrote ${displayPath(toml)}: its instances and routes are an example; describe yours`);
    const envSaid =
      env.action === "wrote"
        ? `wrote ${displayPath(env.file)} (only you can read it): the keys providers.toml names as \${VARS}`
        : isFile(env.file)
          ? `kept ${displayPath(env.file)}: it was there already; add the keys providers.toml names as \${VARS}`
          : `${displayPath(env.file)} is there but is no file (a directory?): gw reads the keys providers.toml names as \${VARS} from a .env file — move it away and write one`;
    console.log(envSaid);
    console.log(`then: ${gw} check${withConfig} (every problem, with its line), ${gw} up${withConfig}`);
    const install = installHint();
    if (install) console.log(`and: ${install}`);
  },
});

const isFile = (path: string) => statSync(path, { throwIfNoEntry: false })?.isFile() === true;
