// A release's .tar.gz: the same bytes for the same binary and build date (SOURCE_DATE_EPOCH), so
// anyone can rebuild a release and compare its SHA256SUMS. What varies from one build to the next
// is left out: entry order, mtimes, owner and the umask's modes, gzip's own timestamp. GNU tar
// does it; another tar (bsdtar, on a Mac running gw deploy) makes a plain archive.

/** Archive `dir`/`name` into `archive`; `date` (ISO) is every entry's mtime. */
export async function archiveDir(dir: string, name: string, archive: string, date: string): Promise<void> {
  const same = (await gnuTar()) ? ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", `--mtime=@${Math.floor(Date.parse(date) / 1000)}`, "--mode=u+rwX,go=rX", "-I", "gzip -n"] : ["-z"];
  const tar = Bun.spawn(["tar", "-C", dir, ...same, "-cf", archive, name], { stdout: "ignore", stderr: "pipe" });
  if ((await tar.exited) !== 0) throw new Error(`tar failed for ${name}: ${(await new Response(tar.stderr).text()).trim()}`);
}

let gnu: Promise<boolean> | undefined;

function gnuTar(): Promise<boolean> {
  return (gnu ??= (async () => {
    const p = Bun.spawn(["tar", "--version"], { stdout: "pipe", stderr: "ignore" });
    return (await new Response(p.stdout).text()).includes("GNU tar");
  })());
}
