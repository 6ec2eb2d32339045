// CLIProxyAPI's GitHub releases, as its release workflow (.github/workflows/release.yaml) makes
// them: tag vX.Y.Z; one archive per platform named CLIProxyAPI_<X.Y.Z>_<os>_<arch>.tar.gz whose
// top level holds the binary `cli-proxy-api`; and checksums.txt, `sha256sum` lines over every
// archive. Pure: names and parsing only; install.ts does the downloading.

export const RELEASES_URL = "https://github.com/router-for-me/CLIProxyAPI/releases";
export const BINARY_NAME = "cli-proxy-api";
export const CHECKSUMS_FILE = "checksums.txt";

/** The release archive for this machine, or an error saying which platforms exist. */
export function assetName(version: string, platform: string = process.platform, arch: string = process.arch): { name: string } | { error: string } {
  // Release arch names: amd64, and aarch64 for arm64. Windows archives are zips; gw itself needs
  // unix sockets and process groups, so it supports linux, macOS and FreeBSD only.
  const a = arch === "x64" ? "amd64" : arch === "arm64" ? "aarch64" : null;
  const os = platform === "linux" || platform === "darwin" || platform === "freebsd" ? platform : null;
  if (!a || !os) return { error: `CLIProxyAPI publishes no release archive gw can use for ${platform}/${arch}` };
  // FreeBSD on arm64 only has the build without plugin support.
  const suffix = os === "freebsd" && a === "aarch64" ? "_no-plugin" : "";
  return { name: `CLIProxyAPI_${version}_${os}_${a}${suffix}.tar.gz` };
}

/** "v7.2.140" or "7.2.140" → "7.2.140"; null for anything that is not a version. */
export function normalizeVersion(v: string): string | null {
  const m = /^v?(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)$/.exec(v.trim());
  return m ? m[1]! : null;
}

/** The version in an archive's file name (CLIProxyAPI_7.2.140_linux_amd64.tar.gz → 7.2.140). */
export function versionOfAsset(file: string): string | null {
  const m = /CLIProxyAPI_([^_]+)_[a-z]+_[a-z0-9]+(?:_no-plugin)?\.tar\.gz$/.exec(file);
  return m ? normalizeVersion(m[1]!) : null;
}

/** `sha256sum` output (`HEX  name`, or `HEX *name` in binary mode) → name → lower-case hex. */
export function parseChecksums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line.trim());
    if (m) out.set(m[2]!.trim().replace(/^.*\//, ""), m[1]!.toLowerCase());
  }
  return out;
}

export const downloadUrl = (base: string, version: string, file: string) => `${base}/download/v${version}/${file}`;
