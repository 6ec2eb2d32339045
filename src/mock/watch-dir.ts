// CLIProxyAPI watches its config file and its auth directory (fsnotify) and reloads each after a
// change settles; the mock does the same for both through this one watcher.

import { watch } from "node:fs";

/** Changes closer together than this are read once: an editor's save or a `cp` is several events. */
const SETTLE_MS = 50;

/**
 * Calls `settled` once changes to the entries of `dir` that `wanted` picks (by name) have been
 * quiet for SETTLE_MS. The directory is watched, not a file: gw and editors replace a file by a
 * rename, which a watch on the old inode never sees. Not recursive, as fsnotify is not.
 * Throws (ENOENT …) when `dir` cannot be watched.
 */
export function watchDir(dir: string, wanted: (name: string) => boolean, settled: () => void): { close(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const w = watch(dir, (_event, name) => {
    // No name (some platforms, an overflowed queue): anything may have changed.
    if (name !== null && !wanted(name)) return;
    clearTimeout(timer);
    timer = setTimeout(settled, SETTLE_MS);
  });
  // A watched directory that goes away must not take the mock down with an unhandled event.
  w.on("error", (err) => console.error(`gw mock: stopped watching ${JSON.stringify(dir)}: ${err.message}`));
  w.unref();
  return {
    close() {
      clearTimeout(timer);
      w.close();
    },
  };
}
