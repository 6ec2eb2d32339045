// CLIProxyAPI builds up to v7.2.19 serve the Gemini CLI's `/v1internal:*` paths to loopback
// callers without a key (lb/paths.ts). gw's LB refuses those paths, but an instance listens on
// 127.0.0.1, and a web page in the user's browser is a loopback caller too: a no-cors POST with a
// text/plain body reaches it, and uses the instance's Gemini logins. gw cannot close that port;
// it says so, with the fix, wherever it learns an instance's version.

/** The last build that answers `/v1internal:*` without a key. */
const LAST_KEYLESS = "7.2.19";

/** The warning for a CLIProxyAPI `version` (as its -h or first log line prints it) that has the hole; undefined for others, or an unreadable one. */
export function keylessInternalWarning(version: string | null | undefined): string | undefined {
  // Only the number is quoted: the rest of a log's line is not gw's to print.
  const v = /^v?(\d+\.\d+\.\d+)/i.exec(version ?? "")?.[1];
  if (!v || Bun.semver.order(v, LAST_KEYLESS) > 0) return undefined;
  return `CLIProxyAPI ${v} answers /v1internal:* on this machine without a key: a web page you open can use its Gemini logins — update it (v7.2.20 or later): gw cliproxy install`;
}
