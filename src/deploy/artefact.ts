// The release archive `gw deploy` uploads for a target: from dist/release (built there when
// missing and gw runs from a checkout), or — for a compiled gw deploying to a host of its own
// kind — made from this very binary.
import { join } from "node:path";
import { CliError } from "../cli/errors.ts";
import { sha256File } from "../fs/sha256.ts";
import { buildInfo } from "../version.ts";
import { archiveName, type ReleaseTarget, releaseName } from "../release/targets.ts";

interface Artefact {
  readonly target: ReleaseTarget;
  readonly version: string;
  /** The .tar.gz to upload, and its SHA-256 ("" in a plan, when it is not made yet). */
  readonly archive: string;
  readonly sha256: string;
  /** SHA-256 of the gw binary inside ("" when unknown): when the host has exactly it, the archive need not travel. */
  readonly binarySha256: string;
  /** Where it came from, for the user: "dist/release", "built now", "this gw" (a plan: what would be done). */
  readonly source: string;
}

/** $GW_RELEASE_DIR, else dist/release of the checkout gw runs from (of the current directory for a compiled gw). */
async function releaseDir(): Promise<string> {
  if (process.env.GW_RELEASE_DIR) return process.env.GW_RELEASE_DIR;
  if (Bun.isStandaloneExecutable) return join(process.cwd(), "dist/release");
  return (await import("../release/release.ts")).RELEASE_DIR;
}

/**
 * Find or make the archive for `target`. With `plan` nothing is built or packed, but what is known
 * is still said (the checksums of an archive already there, the binary's), so a dry run predicts
 * exactly what travels; `source` then says what would be done. An archive made only for this
 * deploy is made in `work`, the deploy's own directory: whatever ends the deploy removes it with
 * the rest, where a directory of its own was left behind (~150 MB) by any failure after packing.
 */
export async function artefactFor(target: ReleaseTarget, say: (line: string) => void, work: string, plan = false): Promise<Artefact> {
  const { version } = buildInfo();
  const dir = await releaseDir();
  const archive = join(dir, archiveName(version, target));
  const binaryOf = async (bin: string) => ((await Bun.file(bin).exists()) ? sha256File(bin) : "");
  const unpacked = join(dir, releaseName(version, target), "gw");
  if (await Bun.file(archive).exists()) return { target, version, archive, sha256: await sha256File(archive), binarySha256: await binaryOf(unpacked), source: dir };
  if (Bun.isStandaloneExecutable && buildInfo().target === target) {
    const self = await sha256File(process.execPath);
    if (plan) return { target, version, archive: archiveName(version, target), sha256: "", binarySha256: self, source: `would pack this gw, ${process.execPath}` };
    const name = releaseName(version, target);
    await Bun.$`mkdir -p ${join(work, name)} && cp ${process.execPath} ${join(work, name, "gw")} && tar -C ${work} -czf ${join(work, archiveName(version, target))} ${name}`.quiet();
    const packed = join(work, archiveName(version, target));
    return { target, version, archive: packed, sha256: await sha256File(packed), binarySha256: self, source: "this gw" };
  }
  if (Bun.isStandaloneExecutable) {
    throw new CliError(`no ${archiveName(version, target)} in ${dir}`, 1, `put the release archive for ${target} there (bun run release in a checkout builds every target), or run gw deploy from a checkout`);
  }
  if (plan) return { target, version, archive, sha256: "", binarySha256: "", source: `would build it into ${dir}: bun run release --target ${target}` };
  say(`building gw for ${target} (not in ${dir} yet)…`);
  const { buildRelease } = await import("../release/release.ts");
  await buildRelease({ targets: [target], dir, progress: say });
  return { target, version, archive, sha256: await sha256File(archive), binarySha256: await binaryOf(unpacked), source: "built now" };
}
