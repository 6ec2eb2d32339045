// The old setup's deploy_cld.sh put `cld` into zsh's fpath as an autoloaded function, and a zsh
// function runs before any program on PATH: after gw install, typing `cld` in zsh still ran the
// old launcher. Only the user's own interactive zsh knows its functions, so it is asked.

/** Where the user's `zsh` finds a `cld` function it defines: its file in fpath, or "" when it is defined in a startup file; undefined when there is none (or no zsh to ask). */
export function zshCldFunction(zsh: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  // Marked: the user's startup files may print lines of their own.
  const script = `[[ $(whence -w cld) == "cld: function" ]] || exit 3; f=( $^fpath/cld(N.) ); print -r -- "${MARK}\${f[1]-}"`;
  try {
    const r = Bun.spawnSync([zsh, "-i", "-c", script], { env: { ...env }, stdin: "ignore", stdout: "pipe", stderr: "ignore", timeout: ASK_TIMEOUT_MS });
    if (r.exitCode !== 0) return undefined;
    const line = r.stdout.toString().split("\n").findLast((l) => l.startsWith(MARK));
    return line === undefined ? undefined : line.slice(MARK.length);
  } catch {
    return undefined; // no zsh
  }
}

const MARK = "gw-cld-function:";
/** A startup file that waits on something gets no longer than this. */
const ASK_TIMEOUT_MS = 5_000;
