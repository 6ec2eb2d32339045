// The POSIX sh that `gw deploy` runs on the host, one script per step. Pure: every value is
// quoted in here, and nothing but sh, uname, tar and the usual file tools is assumed there
// (busybox does). Layout on the host: DIR/gw, DIR/providers.toml, DIR/.env, DIR/auths/…; the
// upload lands in DIR/.gw/deploy/next, what it replaced is kept in DIR/.gw/deploy/previous, and the
// SHA-256 of the .env gw put there last in DIR/.gw/deploy/env.sha256.
import { sq } from "./remote.ts";

/** The config's name on the host, whatever it is called here. */
export const CONFIG_NAME = "providers.toml";
const FILES = ["gw", CONFIG_NAME, ".env"] as const;
/** The upload's archive of the files the config includes (the router's config_file), by their paths relative to it. */
export const INCLUDED_TARBALL = "included.tar.gz";

/** A path in the upload that is deploy's own: gw's files, what stageScript unpacks to, and the name installScript keeps the .env's record under in previous. */
export const isDeployOwn = (rel: string) => (FILES as readonly string[]).includes(rel) || rel === ".env.sha256" || /^(auths-in|auths\.tar\.gz|included\.tar\.gz)(\/|$)/.test(rel);

/** The files installScript replaces (and restoreScript puts back): gw's own, and `included` (relative paths). */
const replaced = (included: readonly string[]) => [...FILES, ...included].map(sq).join(" ");

export interface HostPaths {
  readonly dir: string;
  readonly next: string;
  readonly previous: string;
  /** SHA-256 of the .env a deploy installed: a deploy without one removes the host's only while it still matches. */
  readonly envSha256: string;
}

export const hostPaths = (dir: string): HostPaths => ({ dir, next: `${dir}/.gw/deploy/next`, previous: `${dir}/.gw/deploy/previous`, envSha256: `${dir}/.gw/deploy/env.sha256` });

/** DIR as the host will see it: relative (or ~/) means under the remote user's home. */
export function remoteDir(dir: string, home: string): string {
  if (dir.startsWith("/")) return dir.replace(/\/+$/, "");
  return `${home.replace(/\/+$/, "")}/${dir.replace(/^~\/?/, "").replace(/\/+$/, "")}`.replace(/\/$/, "");
}

const SHA256 = `sha256() { if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1; }`;

/** Read-only: what the host is, and what DIR holds. Lines of key=value. */
export function probeScript(dir: string): string {
  return `${SHA256}
D=${sq(dir)}
echo "os=$(uname -s)"
echo "machine=$(uname -m)"
# musl when ldd says so (Alpine), or when there is musl's loader and no glibc one (a glibc host may have musl installed too)
if ldd --version 2>&1 | grep -qi musl; then echo musl=1
elif ls /lib*/ld-linux-*.so.* >/dev/null 2>&1; then echo musl=0
elif ls /lib/ld-musl-* >/dev/null 2>&1; then echo musl=1
else echo musl=0; fi
if [ -r /proc/cpuinfo ] && ! grep -qw avx2 /proc/cpuinfo; then echo avx2=0; else echo avx2=1; fi
echo "uid=$(id -u)"
echo "home=$HOME"
if [ -d /run/systemd/system ]; then echo systemd=1; else echo systemd=0; fi
case "$D" in /*) ;; *) D="$HOME/\${D#\\~/}";; esac
echo "dir=$D"
echo "user=$(id -un)"
# A user's systemd (and a user unit's gw) stops with their last session unless lingering is on
if [ -e "/var/lib/systemd/linger/$(id -un)" ]; then echo linger=1; else echo linger=0; fi
# DIR, or the nearest of its parents that exists, must be a directory this user may write
W="$D"; while [ ! -e "$W" ] && [ ! -L "$W" ]; do W=$(dirname "$W"); done
if [ -d "$W" ] && [ -w "$W" ]; then echo writable=1; else echo writable=0; echo "blocked=$W"; fi
if [ -x "$D/gw" ]; then echo "current=$("$D/gw" --version --json 2>/dev/null | head -n 1)"; echo "current_sha256=$(sha256 "$D/gw")"; fi
if [ -x "$D/gw" ] && [ -f "$D/providers.toml" ] && "$D/gw" status --json -c "$D/providers.toml" >/dev/null 2>&1; then echo running=1; else echo running=0; fi
`;
}

/** A clean, private upload directory. */
export function prepareScript(p: HostPaths): string {
  return `set -eu
umask 077
rm -rf ${sq(p.next)}
mkdir -p ${sq(p.next)}
`;
}

/**
 * Unpack and prove the upload before anything is replaced: the archive's checksum, the binary
 * runs on this host and says what it is, and `gw check` passes on the new config here (with its
 * .env, and this host's environment). Credentials are private from their unpacking: tar as root
 * keeps the archive's modes whatever the umask, and a login packed 0644 stayed so until gw ran.
 */
export function stageScript(p: HostPaths, upload: { archive: string; sha256: string; release: string } | "same binary"): string {
  const unpack =
    upload === "same binary"
      ? `cp -p ${sq(`${p.dir}/gw`)} gw` // a copy, not a link: mv refuses to move a file onto a link of itself
      : `got=$(sha256 ${sq(upload.archive)})
if [ "$got" != ${sq(upload.sha256)} ]; then echo "the uploaded ${upload.archive} is damaged (sha256 $got)" >&2; exit 2; fi
tar -xzof ${sq(upload.archive)}
mv ${sq(`${upload.release}/gw`)} gw
rm -rf ${sq(upload.release)} ${sq(upload.archive)}`;
  return `set -eu
umask 077
${SHA256}
cd ${sq(p.next)}
${unpack}
chmod 755 gw
if [ -f .env ]; then chmod 600 .env; fi
if [ -f auths.tar.gz ]; then mkdir auths-in && tar -xzof auths.tar.gz -C auths-in && rm auths.tar.gz && chmod -R go-rwx auths-in; fi
if [ -f ${INCLUDED_TARBALL} ]; then tar -xzof ${INCLUDED_TARBALL} && rm ${INCLUDED_TARBALL}; fi
./gw --version --json
./gw check -c ${sq(`${p.next}/providers.toml`)}
`;
}

/**
 * Keep what is there (hard links: instant, and the running gw keeps its inode), then move the
 * new files in — each a rename, so nothing ever sees half a file. Credentials merge: a file the
 * host has and that is newer there (a token the instance refreshed) is kept. An upload without
 * a .env (deleted here) removes the host's only if gw put it there and nobody has changed it since
 * (its SHA-256 is the one recorded); otherwise it is kept and one line on stdout says so and why.
 */
export function installScript(p: HostPaths, unitFile: string | null, included: readonly string[] = []): string {
  return `set -eu
umask 077
${SHA256}
D=${sq(p.dir)}; N=${sq(p.next)}; P=${sq(p.previous)}; H=${sq(p.envSha256)}
rm -rf "$P"
mkdir -p "$P"
for f in ${replaced(included)}; do
  mkdir -p "$(dirname "$P/$f")"
  if [ -e "$D/$f" ]; then ln "$D/$f" "$P/$f" 2>/dev/null || cp -p "$D/$f" "$P/$f"; else : > "$P/$f.absent"; fi
done
if [ -e "$H" ]; then cp -p "$H" "$P/.env.sha256"; else : > "$P/.env.sha256.absent"; fi
if [ -e "$N/.env" ]; then shipped=1; else shipped=0; fi
${unitFile ? `if [ -f ${sq(unitFile)} ]; then cp -p ${sq(unitFile)} "$P/gw.service"; else : > "$P/gw.service.absent"; fi` : ""}
for f in ${replaced(included)}; do
  if [ -e "$N/$f" ]; then mkdir -p "$(dirname "$D/$f")"; mv -f "$N/$f" "$D/$f"; fi
done
# The .env: one shipped is recorded; without one, the host's goes only if it is the one gw shipped, unchanged.
if [ "$shipped" = 1 ]; then mkdir -p "$(dirname "$H")"; sha256 "$D/.env" > "$H"
elif [ -e "$D/.env" ] || [ -L "$D/.env" ]; then
  why="this deploy has no .env (gw check there ran without it); remove it there yourself if gw should run without it"
  if [ -f "$H" ] && [ -f "$D/.env" ] && [ ! -L "$D/.env" ] && [ "$(sha256 "$D/.env")" = "$(cat "$H")" ]; then
    rm -f "$D/.env" "$H"; echo "$D/.env removed: gw deployed it and this deploy has none (the copy is in $P until the next deploy)"
  elif [ -f "$H" ]; then echo "$D/.env kept: it was changed there after gw deployed it; $why"
  else echo "$D/.env kept: gw did not deploy it (no record that it did); $why"; fi
fi
if [ -d "$N/auths-in" ]; then
  (cd "$N/auths-in" && find . -type f) | while IFS= read -r f; do
    src="$N/auths-in/$f"; dst="$D/\${f#./}"
    if [ ! -e "$dst" ] || [ "$src" -nt "$dst" ]; then mkdir -p "$(dirname "$dst")"; mv -f "$src" "$dst"; fi
  done
fi
rm -rf "$N"
`;
}

/** Put back what installScript kept (files that were absent before go away again). */
export function restoreScript(p: HostPaths, unitFile: string | null, included: readonly string[] = []): string {
  return `set -u
D=${sq(p.dir)}; P=${sq(p.previous)}
for f in ${replaced(included)}; do
  if [ -e "$P/$f" ]; then mv -f "$P/$f" "$D/$f"; elif [ -e "$P/$f.absent" ]; then rm -f "$D/$f"; fi
done
if [ -e "$P/.env.sha256" ]; then mv -f "$P/.env.sha256" ${sq(p.envSha256)}; elif [ -e "$P/.env.sha256.absent" ]; then rm -f ${sq(p.envSha256)}; fi
${unitFile ? `if [ -f "$P/gw.service" ]; then cp -p "$P/gw.service" ${sq(unitFile)}; elif [ -e "$P/gw.service.absent" ]; then rm -f ${sq(unitFile)}; fi` : ""}
`;
}

/** Run one gw command in DIR for its config; output as it comes. */
export function gwScript(p: HostPaths, args: readonly string[]): string {
  return `set -eu
cd ${sq(p.dir)}
exec ./gw ${args.map(sq).join(" ")} -c ${sq(`${p.dir}/providers.toml`)}
`;
}

/** systemctl for this user: the system manager for root, the user's own otherwise. */
export function systemctlScript(root: boolean, args: readonly string[]): string {
  return `set -eu
systemctl ${root ? "" : "--user "}${args.map(sq).join(" ")}
`;
}

/** Parse probeScript's key=value lines. */
export function parseProbe(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}
