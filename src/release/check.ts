// The release check CI runs after `bun run release`: every artefact exists, matches SHA256SUMS,
// has the right headers (ELF/Mach-O, CPU, loader), carries every worker gw starts (neither run
// below starts one, and a binary without it only warns once it needs it), and — for every Linux
// target — runs here: `--version --json` must name its own target and `gw check` must pass on
// the example config.
// arm64 runs under qemu-user; musl under musl's own loader (see muslRunner).
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { EMBEDDED_WORKERS } from "./build.ts";
import { missingStrings } from "./embedded.ts";
import { inspectFile, shapeMismatch } from "./inspect.ts";
import { sha256File } from "../fs/sha256.ts";
import { binaryPath, readSums, REPO_DIR } from "./release.ts";
import { archiveName, RELEASE_TARGETS, type ReleaseTarget, hostTarget, releaseName, SHAPES } from "./targets.ts";

interface TargetCheck {
  readonly target: ReleaseTarget;
  readonly bytes: number;
  /** How it was run here ("native", "qemu-user", "musl loader"), or null: only its headers and embedded workers are checked. */
  readonly ranWith: string | null;
  readonly problems: string[];
  /** Its check's wall time: the targets are checked side by side, and one slow runner (qemu) shows here. */
  readonly seconds: number;
}

/**
 * Debian has musl's loader and C library but no musl-built C++ runtime, which Bun's musl build
 * links. Beside Debian's libstdc++ and libgcc_s this puts a tiny library (built with musl-gcc)
 * that provides the handful of glibc-only symbols they reference — what Alpine's gcompat does.
 * gw itself still runs entirely on musl; on Alpine the runtime comes from `apk add libstdc++`.
 */
const GLIBC_SHIM = `#define _GNU_SOURCE
#include <stdint.h>
#include <stddef.h>
#include <time.h>
#include <locale.h>
#include <sys/random.h>
uint32_t arc4random(void) { uint32_t r = 0; getrandom(&r, sizeof r, 0); return r; }
size_t __strftime_l(char *s, size_t n, const char *f, const struct tm *tm, locale_t l) { return strftime_l(s, n, f, tm, l); }
int __cxa_thread_atexit_impl(void (*dtor)(void *), void *obj, void *dso) { (void)dtor; (void)obj; (void)dso; return 0; }
char __libc_single_threaded = 0;
int _dl_find_object(void *pc, void *result) { (void)pc; (void)result; return -1; }
struct { unsigned vendor, type, subtype, features[1]; } __cpu_model;
int __cpu_indicator_init(void) { return 0; }
`;

const MUSL_LOADER = "/lib/ld-musl-x86_64.so.1";
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";
const GLIBCXX = ["/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libgcc_s.so.1"];

type Runner = { readonly how: string; readonly prefix: string[] } | { readonly missing: string };

async function muslRunner(work: string): Promise<Runner> {
  if (!(await Bun.file(MUSL_LOADER).exists()) || !Bun.which("musl-gcc")) return { missing: "musl musl-tools" };
  const lib = join(work, "musl-lib");
  await Bun.write(join(work, "shim.c"), GLIBC_SHIM);
  await Bun.$`mkdir -p ${lib} && musl-gcc -shared -fPIC -O2 -o ${join(lib, "ld-linux-x86-64.so.2")} ${join(work, "shim.c")}`.quiet();
  for (const so of GLIBCXX) await symlink(so, join(lib, so.split("/").pop()!));
  return { how: "musl loader", prefix: [MUSL_LOADER, "--library-path", lib] };
}

async function runnerFor(t: ReleaseTarget, host: ReleaseTarget | null, work: string): Promise<Runner | null> {
  if (t.startsWith("darwin")) return host?.startsWith("darwin") && SHAPES[t].arch === SHAPES[host].arch ? { how: "native", prefix: [] } : null;
  if (host === "linux-x64" || host === "linux-x64-baseline") {
    if (t === "linux-x64" || t === "linux-x64-baseline") return { how: "native", prefix: [] };
    if (t === "linux-arm64") return Bun.which("qemu-aarch64-static") && (await Bun.file(join(ARM64_SYSROOT, "lib/ld-linux-aarch64.so.1")).exists()) ? { how: "qemu-user", prefix: ["qemu-aarch64-static", "-L", ARM64_SYSROOT] } : { missing: "qemu-user-static libc6-arm64-cross" };
    if (t === "linux-x64-musl") return muslRunner(work);
  }
  return host === t ? { how: "native", prefix: [] } : null;
}

async function run(argv: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  const p = Bun.spawn(argv, { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out: out + err };
}

export async function checkRelease(dir: string, version = pkg.version, targets: readonly ReleaseTarget[] = RELEASE_TARGETS): Promise<TargetCheck[]> {
  const sums = await readSums(dir);
  const work = await mkdtemp(join(tmpdir(), "gw-release-check-"));
  const example = join(REPO_DIR, "providers.toml.example");
  try {
    const host = hostTarget();
    return await Promise.all(
      targets.map(async (target): Promise<TargetCheck> => {
        const t0 = performance.now();
        const seconds = () => (performance.now() - t0) / 1000;
        const problems: string[] = [];
        const bin = binaryPath(dir, version, target);
        const archive = join(dir, archiveName(version, target));
        for (const [file, key] of [[bin, `${releaseName(version, target)}/gw`], [archive, archiveName(version, target)]] as const) {
          if (!(await Bun.file(file).exists())) problems.push(`${key} is missing`);
          else if (sums.get(key) !== (await sha256File(file))) problems.push(`${key} does not match SHA256SUMS`);
        }
        if (problems.length) return { target, bytes: 0, ranWith: null, problems, seconds: seconds() };
        const shape = shapeMismatch(await inspectFile(bin), SHAPES[target]);
        if (shape) problems.push(shape);
        const missing = new Set(await missingStrings(bin, EMBEDDED_WORKERS.map((w) => w.embedded)));
        for (const w of EMBEDDED_WORKERS) if (missing.has(w.embedded)) problems.push(`${w.source} is not embedded (no ${w.embedded} in the binary): see WORKERS in src/release/build.ts`);
        const runner = await runnerFor(target, host, work);
        if (runner && "missing" in runner) problems.push(`cannot run ${target} here: install ${runner.missing}`);
        const ranWith = runner && "how" in runner ? runner.how : null;
        if (runner && "prefix" in runner) {
          const v = await run([...runner.prefix, bin, "--version", "--json"], {});
          const reported = v.code === 0 ? (JSON.parse(v.out) as { target?: string; version?: string }) : null;
          if (!reported) problems.push(`--version failed (exit ${v.code}): ${v.out.trim().split("\n")[0]}`);
          else if (reported.target !== target || reported.version !== version) problems.push(`--version says ${reported.version} ${reported.target}, want ${version} ${target}`);
          const c = await run([...runner.prefix, bin, "check", "-c", example], { RELAY_KEY: "x", OPENAI_RELAY_KEY: "y", NO_COLOR: "1" });
          if (c.code !== 0) problems.push(`gw check on providers.toml.example failed (exit ${c.code}): ${c.out.trim().split("\n").pop()}`);
        }
        return { target, bytes: Bun.file(bin).size, ranWith, problems, seconds: seconds() };
      }),
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
