// `gw init`: a providers.toml to fill in, and the .env for its secrets, from the examples gw
// carries in its binary — a user with the release binary alone has no checkout to copy them from.
// Nothing is ever overwritten: an existing providers.toml is the user's work, an existing .env
// holds their keys.

import { readFileSync } from "node:fs";
import { link, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import envExample from "../../.env.example" with { type: "text" };
import tomlExample from "../../providers.toml.example" with { type: "text" };
import { removeStaleTempsOf, tempPathFor } from "../fs/temp-files.ts";
import { PRIVATE_FILE_MODE } from "../fs/private.ts";

interface StarterFile {
  readonly file: string;
  /** "wrote", or "kept": it was there already (only a .env is kept; a providers.toml there is refused). */
  readonly action: "wrote" | "kept";
}

/**
 * Where `dir` has no providers.toml but a providers.toml.example the user edited (a newcomer's
 * copy-and-edit without the rename): gw read neither, and `gw up` started the demo in its
 * place. An example as gw ships it (a checkout's) is none: the demo is what it is for then.
 */
export function editedExample(dir: string): string | undefined {
  const file = join(dir, "providers.toml.example");
  try {
    return readFileSync(file, "utf8") === tomlExample ? undefined : file;
  } catch {
    return undefined;
  }
}

/** Write providers.toml and .env into `dir`; undefined when a providers.toml is there already. */
export async function writeStarter(dir: string): Promise<StarterFile[] | undefined> {
  await mkdir(dir, { recursive: true });
  const toml = join(dir, "providers.toml");
  if (!(await createOnly(toml, tomlExample, 0o644))) return undefined;
  const env = join(dir, ".env");
  return [
    { file: toml, action: "wrote" },
    { file: env, action: (await createOnly(env, envExample, PRIVATE_FILE_MODE)) ? "wrote" : "kept" },
  ];
}

/**
 * Create `path` whole or not at all, and never over an existing file (a link to it included):
 * written beside it under a fresh name, then hard-linked into place, which fails if the name is
 * taken — where a rename would replace it.
 */
async function createOnly(path: string, text: string, mode: number): Promise<boolean> {
  removeStaleTempsOf(path); // what a killed gw init left; the folder is the user's (temp-files.ts)
  const tmp = tempPathFor(path);
  await writeFile(tmp, text, { mode, flag: "wx" });
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
}
