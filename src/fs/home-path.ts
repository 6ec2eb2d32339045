// `~` and `~/…` in a path that reached gw unexpanded: quoted in the shell (`--prefix '~/bin'`),
// or written in a config. Left as they are, they name a folder called `~` in the working directory.
import { join } from "node:path";

/** `path` with a leading `~` or `~/` as `home`; any other path as it is (`~user/` included: the caller decides). */
export function withHome(path: string, home: string): string {
  return path === "~" || path.startsWith("~/") ? join(home, path.slice(1)) : path;
}
