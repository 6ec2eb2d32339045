// The platforms gw is released for, and what each one's binary must look like. Pure data and
// pure functions: the release build, its checks and `gw deploy` all read them from here.

export const RELEASE_TARGETS = ["linux-x64", "linux-x64-baseline", "linux-arm64", "linux-x64-musl", "darwin-arm64", "darwin-x64"] as const;
export type ReleaseTarget = (typeof RELEASE_TARGETS)[number];

export const isReleaseTarget = (s: string): s is ReleaseTarget => (RELEASE_TARGETS as readonly string[]).includes(s);

/** Bun's name for the runtime a target embeds (`bun build --compile --target=…`). */
export const bunTarget = (t: ReleaseTarget) => `bun-${t}` as const;

/** What the executable's headers must say. */
export interface BinaryShape {
  readonly format: "ELF" | "Mach-O";
  readonly arch: "x86-64" | "arm64";
  /** ELF only: the dynamic loader it asks for (tells glibc from musl). */
  readonly interpreter?: string;
}

export const SHAPES: Record<ReleaseTarget, BinaryShape> = {
  "linux-x64": { format: "ELF", arch: "x86-64", interpreter: "/lib64/ld-linux-x86-64.so.2" },
  "linux-x64-baseline": { format: "ELF", arch: "x86-64", interpreter: "/lib64/ld-linux-x86-64.so.2" },
  "linux-arm64": { format: "ELF", arch: "arm64", interpreter: "/lib/ld-linux-aarch64.so.1" },
  "linux-x64-musl": { format: "ELF", arch: "x86-64", interpreter: "/lib/ld-musl-x86_64.so.1" },
  "darwin-arm64": { format: "Mach-O", arch: "arm64" },
  "darwin-x64": { format: "Mach-O", arch: "x86-64" },
};

/** The directory and archive a target's binary ships in: gw-0.1.0-linux-x64/gw, gw-0.1.0-linux-x64.tar.gz. */
export const releaseName = (version: string, t: ReleaseTarget) => `gw-${version}-${t}`;
export const archiveName = (version: string, t: ReleaseTarget) => `${releaseName(version, t)}.tar.gz`;

/** What a host reports about itself (`uname -sm`, its C library, its CPU's AVX2). */
interface HostFacts {
  /** `uname -s`: Linux, Darwin, … */
  readonly os: string;
  /** `uname -m`: x86_64, aarch64, arm64, … */
  readonly machine: string;
  readonly musl: boolean;
  /** False only when the CPU is known to lack AVX2 (older x86-64: the baseline build). */
  readonly avx2: boolean;
}

type TargetChoice = { readonly target: ReleaseTarget } | { readonly error: string };

/** The release that runs on a host, or why none does. */
export function targetFor(h: HostFacts): TargetChoice {
  const arch = /^(x86_64|amd64)$/i.test(h.machine) ? "x64" : /^(aarch64|arm64)$/i.test(h.machine) ? "arm64" : null;
  const os = h.os.toLowerCase();
  if (!arch || (os !== "linux" && os !== "darwin")) {
    return { error: `no gw release for ${h.os} ${h.machine}: releases exist for ${RELEASE_TARGETS.join(", ")}` };
  }
  if (os === "darwin") return { target: `darwin-${arch}` };
  if (h.musl) return arch === "x64" ? { target: "linux-x64-musl" } : { error: "no gw release for musl on arm64 (Alpine on ARM): use a glibc distribution there, or add linux-arm64-musl to src/release/targets.ts" };
  if (arch === "arm64") return { target: "linux-arm64" };
  return { target: h.avx2 ? "linux-x64" : "linux-x64-baseline" };
}

/** The target this process runs on (null when it is none of the release targets). */
export function hostTarget(): ReleaseTarget | null {
  const musl = process.platform === "linux" && !(process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
  const t = targetFor({ os: process.platform, machine: process.arch === "x64" ? "x86_64" : process.arch, musl, avx2: true });
  return "target" in t ? t.target : null;
}
