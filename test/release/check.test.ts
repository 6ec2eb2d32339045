// The release check proves each binary carries the workers gw starts: neither `--version` nor
// `gw check` starts one, and the darwin binaries cannot run here at all.
import { describe, expect, test } from "bun:test";
import { mkdir } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { sha256File } from "../../src/fs/sha256.ts";
import { compileGw, EMBEDDED_WORKERS } from "../../src/release/build.ts";
import { checkRelease } from "../../src/release/check.ts";
import { findStrings } from "../../src/release/embedded.ts";
import { binaryPath, stampFor } from "../../src/release/release.ts";
import { archiveName, hostTarget, type ReleaseTarget } from "../../src/release/targets.ts";
import { tempDir } from "../helpers/tmp.ts";

const WORKER = EMBEDDED_WORKERS[0]!;

async function* chunksOf(bytes: Uint8Array, cuts: number[]) {
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    yield bytes.subarray(at, cut);
    at = cut;
  }
}

describe("findStrings: which strings a stream of chunks holds", () => {
  const text = new TextEncoder().encode(`xx${WORKER.embedded}yy/$bunfs/root/gw`);
  const wanted = [WORKER.embedded, "/$bunfs/root/gw", "/$bunfs/root/other.js"];
  test("a string split across two chunks or three, at every place, is found; one never written is not", async () => {
    for (let a = 1; a < text.length - 1; a++) {
      for (const cuts of [[a], [a, a + 1], [a, Math.min(text.length, a + 5)]]) {
        const found = await findStrings(chunksOf(text, cuts), wanted);
        expect([cuts, [...found].sort()]).toEqual([cuts, [WORKER.embedded, "/$bunfs/root/gw"].sort()]);
      }
    }
  });
});

/** A release directory as `bun run release` leaves it: each binary (made by `make`), an archive, SHA256SUMS over both. */
async function release(make: Partial<Record<ReleaseTarget, (bin: string) => Promise<unknown>>>): Promise<string> {
  const dir = tempDir("gw-release-");
  const sums: string[] = [];
  for (const [target, write] of Object.entries(make) as [ReleaseTarget, (bin: string) => Promise<unknown>][]) {
    const bin = binaryPath(dir, pkg.version, target);
    await mkdir(dirname(bin), { recursive: true });
    await write(bin);
    const archive = join(dir, archiveName(pkg.version, target));
    await Bun.write(archive, `an archive for ${target}`);
    for (const f of [bin, archive]) sums.push(`${await sha256File(f)}  ${relative(dir, f)}\n`);
  }
  await Bun.write(join(dir, "SHA256SUMS"), sums.join(""));
  return dir;
}

/** A 64-bit Mach-O for `cpu`, a few MB long (many stream chunks), holding `inside` near its end. */
function machO(cpu: number, inside: string): Uint8Array {
  const bytes = new Uint8Array(3_000_000).fill(0x2e);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(0, 0xfeedfacf, true);
  dv.setUint32(4, cpu, true);
  bytes.set(new TextEncoder().encode(inside), bytes.length - 100_000);
  return bytes;
}

const notEmbedded = `${WORKER.source} is not embedded (no ${WORKER.embedded} in the binary): see WORKERS in src/release/build.ts`;

describe("checkRelease: every worker embedded, for every target", () => {
  test("darwin binaries (not run here): the one without the worker is reported, naming the file", async () => {
    const dir = await release({
      "darwin-arm64": (bin) => Bun.write(bin, machO(0x0100000c, `/$bunfs/root/gw ${WORKER.embedded} `)),
      // What gw's own code says of the worker is no sign of it.
      "darwin-x64": (bin) => Bun.write(bin, machO(0x01000007, "/$bunfs/root/gw ./state/checkpoint-worker.ts ")),
    });
    const results = await checkRelease(dir, pkg.version, ["darwin-arm64", "darwin-x64"]);
    expect(results.map((r) => [r.target, r.ranWith, r.problems])).toEqual([
      ["darwin-arm64", null, []],
      ["darwin-x64", null, [notEmbedded]],
    ]);
  });

  test("real builds for this host: with the worker all is well; without it --version and gw check pass, yet the check fails it", async () => {
    const target = hostTarget()!;
    for (const [workers, problems] of [[undefined, []], [[], [notEmbedded]]] as const) {
      const dir = await release({ [target]: (bin: string) => compileGw(target, bin, stampFor(target), workers) });
      const [result] = await checkRelease(dir, pkg.version, [target]);
      expect({ workers, ...result, bytes: 0, seconds: 0 }).toEqual({ workers, target, bytes: 0, ranWith: "native", problems: [...problems], seconds: 0 });
    }
    // The name a reviewer saw in a real binary, derived from WORKERS.
    expect(WORKER).toEqual({ source: "src/state/checkpoint-worker.ts", embedded: "/$bunfs/root/state/checkpoint-worker.js" });
  }, 120_000);
});
