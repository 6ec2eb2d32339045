// `~` and `~/…` in a path that reached gw unexpanded: quoted in the shell (`--prefix '~/bin'`),
// or written in a config. Left as they are, they name a folder called `~` in the working directory.
import { join, resolve } from "node:path";

/** `path` with a leading `~` or `~/` as `home`; any other path as it is (`~user/` included: the caller decides). */
export function withHome(path: string, home: string): string {
  return path === "~" || path.startsWith("~/") ? join(home, path.slice(1)) : path;
}

/**
 * An auth-dir as CLIProxyAPI resolves it (util.ResolveAuthDir): after a leading `~` (`~x` too) the
 * rest is from `home`; a relative path is from `base` (its working directory, or gw's config folder).
 */
export function cliproxyAuthDir(base: string, dir: string, home: string): string {
  return dir.startsWith("~") ? join(home, dir.slice(1).replace(/^[/\\]+/, "")) : resolve(base, dir);
}
