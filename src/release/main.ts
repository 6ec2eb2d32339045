// `bun run release` (every target, or --target T,…), `bun run release --check` (CI's release
// step), and `bun run build` (this machine's binary → dist/gw). Runs from a checkout, never
// inside the compiled gw.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { compileGw } from "./build.ts";
import { checkRelease } from "./check.ts";
import { buildRelease, mb, RELEASE_DIR, REPO_DIR, stampFor } from "./release.ts";
import { hostTarget, isReleaseTarget, RELEASE_TARGETS, type ReleaseTarget } from "./targets.ts";

const { values } = parseArgs({
  options: { target: { type: "string" }, check: { type: "boolean" }, host: { type: "boolean" }, outfile: { type: "string" } },
});

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
