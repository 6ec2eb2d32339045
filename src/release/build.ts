// Compile gw for one target: one self-contained binary with its build info baked in.
// Size: whitespace and syntax are minified, identifiers are not — a minified name turns the
// stack trace a user pastes into a bug report into "at e (…)", and mangling saves only ~0.1 MB
// of a ~105 MB binary (the Bun runtime is the bulk). No source map: it would add ~0.6 MB and
// the function names already say where an error came from.
import { join } from "node:path";
import type { BuildInfo } from "../version.ts";
import { bunTarget, type ReleaseTarget } from "./targets.ts";

const ENTRY = join(import.meta.dir, "../main.ts");
/**
 * Files gw starts as worker threads: a compiled binary holds only what its entry points reach, and
 * `new Worker(url)` is not followed (state/checkpoint.ts falls back, with a warning, without it).
 */
const WORKERS = [join(import.meta.dir, "../state/checkpoint-worker.ts")];

export type BuildStamp = Omit<BuildInfo, "bun">;

export interface Built {
  readonly target: ReleaseTarget | "host";
  readonly file: string;
  readonly bytes: number;
  readonly ms: number;
}

/** Build gw for `target` ("host": this machine's runtime) into `outfile`. */
export async function compileGw(target: ReleaseTarget | "host", outfile: string, stamp: BuildStamp): Promise<Built> {
  const t0 = performance.now();
  const result = await Bun.build({
    entrypoints: [ENTRY, ...WORKERS],
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
