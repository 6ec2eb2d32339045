// `gw cliproxy install`: fetch a CLIProxyAPI release archive (or take one given with --from),
// check it against the release's checksums.txt, and put its binary where gw finds it by default.
// Nothing is written unless the checksum matches; the switch to the new version is one rename.
import { existsSync } from "node:fs";
import { chmod, mkdir, readdir, readlink, rename, rm, symlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { CliError } from "../cli/errors.ts";
import type { Env } from "../config/env.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { removeStaleTempsBeside, tempPathFor } from "../fs/temp-files.ts";
import { cliproxyHome } from "./home.ts";
import { assetName, BINARY_NAME, CHECKSUMS_FILE, downloadUrl, normalizeVersion, parseChecksums, RELEASES_URL, versionOfAsset } from "./release.ts";

export interface InstallRequest {
  /** A version (7.2.140 or v7.2.140); latest when absent. Not with `from`. */
  readonly version?: string;
  /** A release archive on disk or at a URL, for machines that cannot reach GitHub. */
  readonly from?: string;
  readonly env: Env;
  /** One line per step (and download progress). */
  readonly progress: (line: string) => void;
}

interface Installed {
  readonly version: string;
  readonly binary: string;
  readonly sha256: string;
  /** False only for a local --from archive with no checksums.txt beside it. */
  readonly verified: boolean;
}

/** Where releases are fetched from; $GW_CLIPROXY_RELEASES points gw at a mirror (or a test server). */
const releasesBase = (env: Env) => (env.GW_CLIPROXY_RELEASES || RELEASES_URL).replace(/\/+$/, "");

export async function installCliproxy(req: InstallRequest): Promise<Installed> {
  const fetched = req.from ? await fromGiven(req.from, req.progress) : await fromRelease(req.version, releasesBase(req.env), req.progress);
  const { version, archive, asset, expected } = fetched;
  const sha256 = new Bun.CryptoHasher("sha256").update(archive).digest("hex");
  if (expected !== null && sha256 !== expected) {
    throw new CliError(`checksum mismatch for ${asset}: expected sha256 ${expected}, got ${sha256} — refusing to install it`, 1, "download it again; if it keeps failing, the file is not the one the release published");
  }
  req.progress(expected === null ? `not verified: no ${CHECKSUMS_FILE} beside ${asset} (sha256 ${sha256})` : `checksum ok (sha256 ${sha256.slice(0, 16)}…)`);
  const binary = await extractBinary(archive, asset);
  const home = cliproxyHome(req.env);
  const target = join(home, version, BINARY_NAME);
  await writeFileAtomic(target, binary, 0o755);
  await switchCurrent(home, version);
  return { version, binary: target, sha256, verified: expected !== null };
}

/** Installed versions, newest first by name, and which one is current. */
export async function installedVersions(env: Env): Promise<{ versions: string[]; current: string | null }> {
  const home = cliproxyHome(env);
  const names = await readdir(home).catch(() => [] as string[]);
  const versions = names.filter((n) => normalizeVersion(n) === n && existsSync(join(home, n, BINARY_NAME)));
  versions.sort((a, b) => b.localeCompare(a, undefined, { numeric: true }));
  const current = await readlink(join(home, "current")).catch(() => null);
  return { versions, current: current && basename(current) };
}

// --- internal ---

interface Fetched {
  readonly version: string;
  readonly asset: string;
  readonly archive: Uint8Array;
  /** null: nothing to check against (a local file without checksums.txt). */
  readonly expected: string | null;
}

async function fromRelease(wanted: string | undefined, base: string, progress: (l: string) => void): Promise<Fetched> {
  let version: string;
  if (wanted) {
    const v = normalizeVersion(wanted);
    if (!v) throw new CliError(`"${wanted}" is not a CLIProxyAPI version`, 1, "give one like 7.2.140 (or v7.2.140), or none for the latest");
    version = v;
  } else {
    version = await latestVersion(base);
    progress(`latest CLIProxyAPI release: v${version}`);
  }
  const a = assetName(version);
  if ("error" in a) throw new CliError(a.error, 1, "build it from source (github.com/router-for-me/CLIProxyAPI) and set [global] cliproxy");
  const sums = await download(downloadUrl(base, version, CHECKSUMS_FILE), null);
  if (!sums) throw new CliError(`CLIProxyAPI v${version} not found at ${base} (no ${CHECKSUMS_FILE})`, 1, "check the version on github.com/router-for-me/CLIProxyAPI/releases");
  const expected = parseChecksums(new TextDecoder().decode(sums)).get(a.name);
  if (!expected) throw new CliError(`the ${CHECKSUMS_FILE} of v${version} lists no ${a.name}`, 1, "this release may not have finished publishing; try again later or pick another version");
  const archive = await download(downloadUrl(base, version, a.name), progress);
  if (!archive) throw new CliError(`${a.name} is missing from release v${version}`, 1, "pick another version");
  return { version, asset: a.name, archive, expected };
}

async function fromGiven(from: string, progress: (l: string) => void): Promise<Fetched> {
  const isUrl = /^https?:\/\//.test(from);
  const asset = basename(isUrl ? new URL(from).pathname : from);
  const version = versionOfAsset(asset);
  if (!version) throw new CliError(`cannot tell the CLIProxyAPI version from "${asset}"`, 1, "keep the release's file name: CLIProxyAPI_<version>_<os>_<arch>.tar.gz");
  const mine = assetName(version);
  if ("error" in mine) throw new CliError(mine.error);
  if (mine.name !== asset) throw new CliError(`${asset} is not for this machine`, 1, `it needs ${mine.name}`);
  if (isUrl) {
    // Over the network the checksums are not optional: they must sit beside the archive.
    const sums = await download(new URL(CHECKSUMS_FILE, from).href, null);
    if (!sums) throw new CliError(`no ${CHECKSUMS_FILE} beside ${from}`, 1, `put the release's ${CHECKSUMS_FILE} in the same place, or download both and use --from FILE`);
    const expected = parseChecksums(new TextDecoder().decode(sums)).get(asset);
    if (!expected) throw new CliError(`the ${CHECKSUMS_FILE} beside ${from} lists no ${asset}`);
    const archive = await download(from, progress);
    if (!archive) throw new CliError(`${from} could not be downloaded (not found)`);
    return { version, asset, archive, expected };
  }
  const file = Bun.file(from);
  if (!(await file.exists())) throw new CliError(`${from} does not exist`, 1, `download ${mine.name} and ${CHECKSUMS_FILE} from ${RELEASES_URL}/tag/v${version}`);
  const sumsFile = Bun.file(join(dirname(from), CHECKSUMS_FILE));
  let expected: string | null = null;
  if (await sumsFile.exists()) {
    expected = parseChecksums(await sumsFile.text()).get(asset) ?? null;
    if (expected === null) throw new CliError(`the ${CHECKSUMS_FILE} beside ${from} lists no ${asset}`, 1, "use the checksums.txt of the same release");
  }
  progress(`reading ${from}`);
  return { version, asset, archive: await file.bytes(), expected };
}

/** GitHub answers /releases/latest with a redirect to /releases/tag/vX.Y.Z: no API token needed. */
async function latestVersion(base: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(`${base}/latest`, { redirect: "manual", signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw unreachable(base, err);
  }
  await res.body?.cancel();
  const tag = /\/tag\/([^/?#]+)/.exec(res.headers.get("location") ?? "")?.[1];
  const version = tag ? normalizeVersion(decodeURIComponent(tag)) : null;
  if (!version) throw new CliError(`could not find the latest CLIProxyAPI release at ${base}/latest (HTTP ${res.status})`, 1, "name a version: gw cliproxy install 7.2.140");
  return version;
}

/** The body, or null on 404; progress (when given) shows the download as it goes. */
async function download(url: string, progress: ((l: string) => void) | null): Promise<Uint8Array | null> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10 * 60_000) });
  } catch (err) {
    throw unreachable(url, err);
  }
  if (res.status === 404) {
    await res.body?.cancel();
    return null;
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new CliError(`${url}: HTTP ${res.status}`, 1, "try again later, or download it elsewhere and use --from FILE");
  }
  const total = Number(res.headers.get("content-length")) || 0;
  const name = basename(new URL(url).pathname);
  if (!progress || !res.body) return new Uint8Array(await res.arrayBuffer());
  progress(`downloading ${name}${total ? ` (${mb(total)})` : ""}…`);
  const chunks: Uint8Array[] = [];
  let got = 0;
  let shown = 0;
  for await (const chunk of res.body) {
    chunks.push(chunk);
    got += chunk.length;
    const pct = total ? Math.floor((got / total) * 4) * 25 : 0;
    if (pct > shown && pct < 100) {
      shown = pct;
      progress(`  ${pct}% of ${mb(total)}`);
    }
  }
  progress(`  downloaded ${mb(got)}`);
  return Bun.concatArrayBuffers(chunks, Infinity, true);
}

async function extractBinary(archive: Uint8Array, asset: string): Promise<Uint8Array> {
  let files: Map<string, File>;
  try {
    files = await new Bun.Archive(archive).files();
  } catch (err) {
    throw new CliError(`${asset} is not a readable .tar.gz (${(err as Error).message})`);
  }
  // Only the binary is taken, by its name at the top level: nothing else in the archive is written.
  const entry = [...files].find(([path]) => path.replace(/^\.\//, "") === BINARY_NAME)?.[1];
  if (!entry) throw new CliError(`${asset} holds no ${BINARY_NAME} at its top level`, 1, "is it a CLIProxyAPI release archive?");
  return entry.bytes();
}

async function switchCurrent(home: string, version: string): Promise<void> {
  await mkdir(home, { recursive: true });
  const current = join(home, "current");
  removeStaleTempsBeside(current); // a link a killed install left (temp-files.ts)
  // A fresh unpredictable name, made exclusively by symlink (it never replaces what is there).
  const tmp = tempPathFor(current);
  await symlink(version, tmp);
  await rename(tmp, current).catch(async (err: unknown) => {
    await rm(tmp, { force: true });
    throw err;
  });
  await chmod(join(home, version, BINARY_NAME), 0o755);
}

function unreachable(where: string, err: unknown): CliError {
  return new CliError(`cannot reach ${where}: ${(err as Error).message}`, 1, "on a machine without access to GitHub: download the archive and checksums.txt elsewhere, then gw cliproxy install --from FILE");
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
