import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { inspectBinary, inspectFile, shapeMismatch } from "../../src/release/inspect.ts";
import { archiveName, RELEASE_TARGETS, SHAPES, targetFor } from "../../src/release/targets.ts";
import { runGw, tempDir } from "../helpers/tmp.ts";

describe("targetFor: the release a host needs, from uname -sm, its libc and its CPU", () => {
  const host = (os: string, machine: string, musl = false, avx2 = true) => targetFor({ os, machine, musl, avx2 });
  test.each([
    ["Linux", "x86_64", false, true, "linux-x64"],
    ["Linux", "x86_64", false, false, "linux-x64-baseline"],
    ["Linux", "aarch64", false, true, "linux-arm64"],
    ["Linux", "x86_64", true, true, "linux-x64-musl"],
    ["Linux", "x86_64", true, false, "linux-x64-musl"],
    ["Darwin", "arm64", false, true, "darwin-arm64"],
    ["Darwin", "x86_64", false, true, "darwin-x64"],
  ] as const)("%s %s musl=%p avx2=%p → %s", (os, machine, musl, avx2, want) => {
    expect(host(os, machine, musl, avx2)).toEqual({ target: want });
  });
  test("hosts without a release get a reason", () => {
    expect(host("Linux", "armv7l")).toHaveProperty("error", expect.stringContaining("no gw release for Linux armv7l"));
    expect(host("FreeBSD", "amd64")).toHaveProperty("error", expect.stringContaining("FreeBSD"));
    expect(host("Linux", "aarch64", true)).toHaveProperty("error", expect.stringContaining("musl on arm64"));
  });
  test("archives are named by version and target", () => {
    expect(RELEASE_TARGETS.map((t) => archiveName("1.2.3", t))).toContain("gw-1.2.3-linux-x64-musl.tar.gz");
  });
});

describe("inspect: executable headers", () => {
  test("this machine's bun is an ELF for its CPU with its loader", async () => {
    const got = await inspectFile(process.execPath);
    expect(got).toMatchObject({ format: "ELF", arch: process.arch === "arm64" ? "arm64" : "x86-64" });
    expect("interpreter" in got && got.interpreter).toMatch(/^\/lib/);
  });
  test("a Mach-O arm64 header, and what a mismatch says", () => {
    const bytes = new Uint8Array(64);
    const dv = new DataView(bytes.buffer);
    dv.setUint32(0, 0xfeedfacf, true);
    dv.setUint32(4, 0x0100000c, true);
    expect(inspectBinary(bytes)).toEqual({ format: "Mach-O", arch: "arm64" });
    expect(shapeMismatch(inspectBinary(bytes), SHAPES["darwin-arm64"])).toBe("");
    expect(shapeMismatch(inspectBinary(bytes), SHAPES["darwin-x64"])).toBe("architecture arm64, want x86-64");
    expect(shapeMismatch(inspectBinary(bytes), SHAPES["linux-arm64"])).toContain("format Mach-O, want ELF");
  });
  test("a text file is no executable", async () => {
    const f = join(tempDir(), "x.sh");
    await Bun.write(f, "#!/bin/sh\n".padEnd(100, "#"));
    expect(await inspectFile(f)).toEqual({ error: "neither ELF nor 64-bit Mach-O" });
  });
});

describe("gw version", () => {
  test("--version prints the bare version; --version --json and version --json say commit, date and target", async () => {
    const pkg = (await Bun.file(join(import.meta.dir, "../../package.json")).json()) as { version: string };
    expect((await runGw(["--version"])).stdout.trim()).toBe(pkg.version);
    for (const args of [["--version", "--json"], ["version", "--json"]]) {
      const info = JSON.parse((await runGw(args)).stdout);
      expect(info).toMatchObject({ version: pkg.version, date: null, bun: Bun.version });
      expect(info.commit).toMatch(/^([0-9a-f]{40}(-dirty)?|unknown)$/);
      expect(info.target).toMatch(/^source \(/);
    }
    expect((await runGw(["version"])).stdout).toMatch(new RegExp(`^gw ${pkg.version.replace(/\./g, "\\.")} \\(`));
  });
});
