// Compile gw for one target: one self-contained binary with its build info baked in.
// Size: whitespace and syntax are minified, identifiers are not — a minified name turns the
// stack trace a user pastes into a bug report into "at e (…)", and mangling saves only ~0.1 MB
// of a ~105 MB binary (the Bun runtime is the bulk). No source map: it would add ~0.6 MB and
// the function names already say where an error came from.
import { join, relative } from "node:path";
import type { BuildInfo } from "../version.ts";
import { bunTarget, type ReleaseTarget } from "./targets.ts";

const SRC = join(import.meta.dir, "..");
const ENTRY = join(SRC, "main.ts");
/**
 * Files gw starts as worker threads: a compiled binary holds only what its entry points reach, and
 * `new Worker(url)` is not followed (state/checkpoint.ts falls back, with a warning, without it).
 */
const WORKERS = [join(SRC, "state/checkpoint-worker.ts")];

/**
 * Each worker as the release check looks for it: its source (relative to the checkout) and the
 * name a compiled gw keeps it under — its path below the build's `root` (src/), bundled to .js,
 * in Bun's embedded file system (`/$bunfs/root/state/checkpoint-worker.js`). The name is stored
 * whole in the binary's module graph, beside the file; no other bytes spell it.
 */
export const EMBEDDED_WORKERS = WORKERS.map((file) => ({
  source: relative(join(SRC, ".."), file),
  embedded: `/$bunfs/root/${relative(SRC, file).replace(/\.ts$/, ".js")}`,
}));

export type BuildStamp = Omit<BuildInfo, "bun">;

export interface Built {
  readonly target: ReleaseTarget | "host";
  readonly file: string;
  readonly bytes: number;
  readonly ms: number;
}

/** Build gw for `target` ("host": this machine's runtime) into `outfile` (`workers`: tests leave them out). */
export async function compileGw(target: ReleaseTarget | "host", outfile: string, stamp: BuildStamp, workers: readonly string[] = WORKERS): Promise<Built> {
  const t0 = performance.now();
  const result = await Bun.build({
    entrypoints: [ENTRY, ...workers],
    // Fixed rather than left to Bun (the entry points' common directory): EMBEDDED_WORKERS's
    // names are paths below it.
    root: SRC,
    compile: {
      ...(target === "host" ? {} : { target: bunTarget(target) }),
      outfile,
      // gw reads .env itself (beside providers.toml); a bunfig.toml in the user's cwd is not gw's.
      autoloadDotenv: false,
      autoloadBunfig: false,
    },
    splitting: true,
    minify: { whitespace: true, syntax: true, identifiers: false },
    define: { GW_BUILD: JSON.stringify(JSON.stringify(stamp)) },
  });
  if (!result.success) throw new Error(`build for ${target} failed: ${result.logs.map(String).join("; ")}`);
  return { target, file: outfile, bytes: Bun.file(outfile).size, ms: performance.now() - t0 };
}
