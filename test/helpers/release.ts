// A local stand-in for CLIProxyAPI's GitHub releases, laid out as GitHub serves them:
// /releases/latest redirects to /releases/tag/vX; archives and checksums.txt live under
// /releases/download/vX/. Each fake release's cli-proxy-api prints the real binary's version
// line first (what `-h` shows) and then runs `gw mock` with the same flags.
import { assetName } from "../../src/cliproxy/release.ts";
import { MAIN } from "./supervisor.ts";

export const fakeBinary = (version: string) =>
  `#!/bin/sh\necho "CLIProxyAPI Version: ${version}, Commit: test, BuiltAt: 2026-01-01T00:00:00Z"\n[ "$1" = "-h" ] && exit 0\nexec "${process.execPath}" "${MAIN}" mock "$@"\n`;

export async function releaseArchive(version: string): Promise<Uint8Array> {
  const archive = new Bun.Archive({ "cli-proxy-api": fakeBinary(version), LICENSE: "MIT\n", "config.example.yaml": "port: 8317\n" }, { compress: "gzip" });
  return archive.bytes();
}

const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
/** This machine's archive name for a version. */
export const asset = (v: string) => (assetName(v) as { name: string }).name;

interface FakeReleases {
  /** …/releases, for $GW_CLIPROXY_RELEASES. */
  readonly base: string;
  /** Path → bytes served. */
  readonly files: Map<string, Uint8Array>;
  /** Paths asked for, in order. */
  readonly requests: string[];
  stop(): void;
}

/** `latest` is the tag /releases/latest points at; versions in `badSum` get a wrong checksums.txt. */
export async function fakeReleases(versions: string[], latest: string, badSum: string[] = []): Promise<FakeReleases> {
  const files = new Map<string, Uint8Array>();
  const requests: string[] = [];
  for (const v of versions) {
    const archive = await releaseArchive(v);
    const sum = badSum.includes(v) ? sha256(new TextEncoder().encode("something else")) : sha256(archive);
    const other = `CLIProxyAPI_${v}_windows_amd64.zip`;
    // sha256sum's format, sorted by file name, as the release workflow writes it
    const lines = [`${sum}  ${asset(v)}`, `${sha256(new Uint8Array([1]))}  ${other}`].sort((a, b) => a.slice(66).localeCompare(b.slice(66)));
    files.set(`/releases/download/v${v}/${asset(v)}`, archive);
    files.set(`/releases/download/v${v}/checksums.txt`, new TextEncoder().encode(`${lines.join("\n")}\n`));
  }
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const path = new URL(req.url).pathname;
      requests.push(path);
      if (path === "/releases/latest") return new Response(null, { status: 302, headers: { location: `https://example.invalid/router-for-me/CLIProxyAPI/releases/tag/v${latest}` } });
      const body = files.get(path);
      return body ? new Response(body as Uint8Array<ArrayBuffer>) : new Response("Not Found", { status: 404 });
    },
  });
  return { base: `http://127.0.0.1:${server.port}/releases`, files, requests, stop: () => void server.stop(true) };
}
