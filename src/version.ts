// What this gw is: version, git commit, build date and target. A release build injects them
// (src/release/build.ts defines GW_BUILD); run from source they come from package.json and git.
import pkg from "../package.json" with { type: "json" };
import { hostTarget } from "./release/targets.ts";

/** JSON of BuildInfo, replaced at build time by `--define`; undefined when run from source. */
declare const GW_BUILD: string | undefined;

export interface BuildInfo {
  readonly version: string;
  /** Full commit hash, with "-dirty" when the tree had uncommitted changes; "unknown" outside git. */
  readonly commit: string;
  /** ISO date of the build; null when run from source. */
  readonly date: string | null;
  /** Release target (linux-x64, darwin-arm64, …); "source" when run by bun from a checkout. */
  readonly target: string;
  /** The Bun runtime inside. */
  readonly bun: string;
}

export function buildInfo(): BuildInfo {
  if (typeof GW_BUILD === "string") return { ...(JSON.parse(GW_BUILD) as Omit<BuildInfo, "bun">), bun: Bun.version };
  return { version: pkg.version, commit: gitCommit(`${import.meta.dir}/..`), date: null, target: `source (${hostTarget() ?? process.platform + "-" + process.arch})`, bun: Bun.version };
}

/** The checkout's commit, "-dirty" when files differ from it; "unknown" when git cannot tell. */
export function gitCommit(dir: string): string {
  if (!Bun.which("git")) return "unknown"; // spawning a missing git throws
  const run = (args: string[]) => Bun.spawnSync(["git", "-C", dir, ...args], { stdout: "pipe", stderr: "ignore" });
  const head = run(["rev-parse", "HEAD"]);
  if (head.exitCode !== 0) return "unknown";
  const dirty = run(["status", "--porcelain", "--untracked-files=no"]).stdout.toString().trim() !== "";
  return head.stdout.toString().trim() + (dirty ? "-dirty" : "");
}

/**
 * `gw --version` prints the bare version (scripts compare it); `--json` and `gw version` say more.
 * Here rather than in commands/version.ts: `--version` must not load citty and the command helpers.
 */
export function printVersion(json: boolean, long = false): number {
  const info = buildInfo();
  console.log(json ? JSON.stringify(info) : long ? formatBuildInfo(info) : info.version);
  return 0;
}

/** One line for humans: "gw 0.1.0 (abc1234, built 2026-01-02, linux-x64)". */
export function formatBuildInfo(b: BuildInfo): string {
  const built = b.date ? `built ${b.date.slice(0, 10)}` : "not built";
  return `gw ${b.version} (${b.commit.slice(0, 12)}, ${built}, ${b.target}, bun ${b.bun})`;
}
