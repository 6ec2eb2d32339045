// `bun run release`: gw for every target into dist/release/ — one directory and one .tar.gz per
// target, named by version and target, and a SHA256SUMS over all of them.
import { mkdir, readdir, rm } from "node:fs/promises";
import { join, relative } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { sha256File } from "../fs/sha256.ts";
import { archiveDir } from "./archive.ts";
import { gitCommit } from "../version.ts";
import { type BuildStamp, type Built, compileGw } from "./build.ts";
import { archiveName, type ReleaseTarget, releaseName } from "./targets.ts";

export const REPO_DIR = join(import.meta.dir, "../..");
export const RELEASE_DIR = join(REPO_DIR, "dist/release");
const SUMS_FILE = "SHA256SUMS";

/** Two at a time: the machines gw is built on have two cores, and each build is mostly one. */
const PARALLEL_BUILDS = 2;

/** The build info of a build made now from this checkout (SOURCE_DATE_EPOCH pins the date). */
export function stampFor(target: string): BuildStamp {
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  const date = new Date(Number.isFinite(epoch) && process.env.SOURCE_DATE_EPOCH ? epoch * 1000 : Date.now()).toISOString();
  return { version: pkg.version, commit: gitCommit(REPO_DIR), date, target };
}

interface ReleasedTarget extends Built {
  readonly target: ReleaseTarget;
  readonly archive: string;
  readonly archiveBytes: number;
}

interface ReleaseOptions {
  readonly targets: readonly ReleaseTarget[];
  readonly dir?: string;
  /** Remove what dist/release held before (a full release); false adds to it (deploy's one target). */
  readonly clean?: boolean;
  readonly progress?: (line: string) => void;
}

export const binaryPath = (dir: string, version: string, t: ReleaseTarget) => join(dir, releaseName(version, t), "gw");

export async function buildRelease(opts: ReleaseOptions): Promise<ReleasedTarget[]> {
  const dir = opts.dir ?? RELEASE_DIR;
  const say = opts.progress ?? (() => {});
  if (opts.clean) await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const queue = [...opts.targets];
  const done: ReleasedTarget[] = [];
  const worker = async () => {
    for (let t = queue.shift(); t; t = queue.shift()) done.push(await releaseOne(dir, t, say));
  };
  await Promise.all(Array.from({ length: PARALLEL_BUILDS }, worker));
  await writeSums(dir, pkg.version);
  return opts.targets.map((t) => done.find((d) => d.target === t)!);
}

async function releaseOne(dir: string, target: ReleaseTarget, say: (line: string) => void): Promise<ReleasedTarget> {
  const version = pkg.version;
  say(`building ${target}…`);
  const stamp = stampFor(target);
  const built = await compileGw(target, binaryPath(dir, version, target), stamp);
  const archive = join(dir, archiveName(version, target));
  await archiveDir(dir, releaseName(version, target), archive, stamp.date!);
  const archiveBytes = Bun.file(archive).size;
  say(`built ${target} in ${(built.ms / 1000).toFixed(1)} s: ${mb(built.bytes)} binary, ${mb(archiveBytes)} archive`);
  return { ...built, target, archive, archiveBytes };
}

export const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** SHA256SUMS over every archive and binary of this version in `dir` (`sha256sum -c` reads it). */
async function writeSums(dir: string, version: string): Promise<void> {
  const prefix = `gw-${version}-`;
  const files: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    if (!name.startsWith(prefix)) continue;
    if (name.endsWith(".tar.gz")) files.push(join(dir, name));
    else if (await Bun.file(join(dir, name, "gw")).exists()) files.push(join(dir, name, "gw"));
  }
  const lines = await Promise.all(files.map(async (f) => `${await sha256File(f)}  ${relative(dir, f)}\n`));
  await Bun.write(join(dir, SUMS_FILE), lines.join(""));
}

/** The sums file as path → hash (empty when there is none). */
export async function readSums(dir: string): Promise<Map<string, string>> {
  const text = await Bun.file(join(dir, SUMS_FILE)).text().catch(() => "");
  return new Map(text.split("\n").filter(Boolean).map((l) => [l.slice(66), l.slice(0, 64)] as const));
}
