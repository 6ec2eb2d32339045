// `bun run release` (every target, or --target T,…), `bun run release --check` (CI's release
// step), and `bun run build` (this machine's binary → dist/gw). Runs from a checkout, never
// inside the compiled gw.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { compileGw } from "./build.ts";
import { checkRelease } from "./check.ts";
import { buildRelease, mb, RELEASE_DIR, REPO_DIR, stampFor } from "./release.ts";
import { hostTarget, isReleaseTarget, RELEASE_TARGETS, type ReleaseTarget } from "./targets.ts";

const USAGE = `usage: bun run release [--target T,…]   every target (or those), archives and SHA256SUMS in dist/release
       bun run release --check [--target T,…]   check what dist/release holds (CI's release step)
       bun run build [--outfile FILE]   this machine's gw → dist/gw
targets: ${RELEASE_TARGETS.join(", ")}; SOURCE_DATE_EPOCH pins the build date (the same bytes again)`;

const { values } = (() => {
  try {
    return parseArgs({ options: { target: { type: "string" }, check: { type: "boolean" }, host: { type: "boolean" }, outfile: { type: "string" }, help: { type: "boolean", short: "h" } } });
  } catch (e) {
    console.error(`release: ${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
})();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

function targetsOf(list: string | undefined): ReleaseTarget[] {
  if (!list) return [...RELEASE_TARGETS];
  const names = list.split(",").map((s) => s.trim());
  const bad = names.filter((n) => !isReleaseTarget(n));
  if (bad.length) {
    console.error(`release: unknown target ${bad.join(", ")} — targets: ${RELEASE_TARGETS.join(", ")}`);
    process.exit(1);
  }
  return names as ReleaseTarget[];
}

const t0 = performance.now();
const secs = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
if (values.host) {
  const out = values.outfile ?? join(REPO_DIR, "dist/gw");
  const built = await compileGw("host", out, stampFor(hostTarget() ?? "host"));
  console.log(`built ${out} (${mb(built.bytes)}) in ${secs()}`);
} else if (values.check) {
  const results = await checkRelease(RELEASE_DIR, undefined, targetsOf(values.target));
  for (const r of results) {
    const how = r.ranWith ? `headers, workers; ran --version and check (${r.ranWith})` : "headers, workers; cannot run here";
    console.log(`${r.problems.length ? "FAIL" : "ok  "} ${r.target.padEnd(19)} ${mb(r.bytes).padStart(9)}  ${how} in ${r.seconds.toFixed(1)} s${r.problems.map((p) => `\n       ${p}`).join("")}`);
  }
  const failed = results.filter((r) => r.problems.length).length;
  console.log(`release check: ${results.length - failed} of ${results.length} targets ok in ${secs()}`);
  if (failed) process.exit(1);
} else {
  const targets = targetsOf(values.target);
  const built = await buildRelease({ targets, clean: !values.target, progress: (l) => console.log(l) });
  const total = built.reduce((n, b) => n + b.archiveBytes, 0);
  console.log(`${built.length} targets in ${RELEASE_DIR} (${mb(total)} of archives, SHA256SUMS) in ${secs()}`);
}
