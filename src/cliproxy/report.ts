// What `gw cliproxy install` and `gw cliproxy version` tell the user (text) and scripts (data).
import { displayPath } from "../cli/display-path.ts";
import { isUnder, realOf } from "../fs/same-path.ts";
import type { Env } from "../config/env.ts";
import { managedBinary } from "./home.ts";
import { type InstallRequest, installCliproxy, installedVersions } from "./install.ts";
import { type CliproxyScope, findCliproxy, getCliproxyHint, whyNoCliproxy } from "./locate.ts";
import { keylessInternalWarning } from "./keyless-internal.ts";
import { binaryVersion } from "./version.ts";

const SOURCE_WORDS = {
  "$GW_CLIPROXY": "from $GW_CLIPROXY",
  "[global] cliproxy": "from [global] cliproxy",
  "beside the config": "beside the config",
  "gw cliproxy install": "installed by gw cliproxy install",
  PATH: "found on PATH",
} as const;

export async function installAndReport(req: InstallRequest, scope: CliproxyScope | null) {
  const done = await installCliproxy(req);
  const lines = [`installed CLIProxyAPI ${done.version} → ${displayPath(done.binary)}`];
  const inUse = findCliproxy(scope, req.env);
  if (inUse && inUse.path !== managedBinary(req.env)) {
    lines.push(`note: ${scope ? "this config" : "gw"} still uses ${displayPath(inUse.path)} (${SOURCE_WORDS[inUse.source]}), which comes first; remove that to use the installed one`);
  } else {
    lines.push("gw runs it for every instance unless $GW_CLIPROXY or [global] cliproxy names another; a running gw switches at: gw restart");
  }
  return { text: lines.join("\n"), data: { ...done, inUse: inUse?.path ?? null } };
}

export async function describeCliproxy(scope: CliproxyScope | null, env: Env) {
  const found = findCliproxy(scope, env);
  const installed = await installedVersions(env);
  const others = installed.versions.length ? `installed by gw: ${installed.versions.map((v) => (v === installed.current ? `${v} (current)` : v)).join(", ")}` : "";
  if (!found) {
    return {
      text: [`no CLIProxyAPI binary found: ${whyNoCliproxy(scope, env)}`, getCliproxyHint(), ...(others ? [others] : [])].join("\n"),
      data: { found: false, path: null, source: null, version: null, installed: installed.versions, current: installed.current },
    };
  }
  // A report runs nothing a folder brought: a cloned checkout's providers.toml may name its own
  // "binary" (or put one beside itself), and looking at a folder must not run it. gw up will.
  const foldersOwn = scope !== null && (found.source === "[global] cliproxy" || found.source === "beside the config") && isUnder(realOf(scope.dir), realOf(found.path));
  const asked = !found.isGw && !foldersOwn;
  const version = !asked ? null : found.source === "gw cliproxy install" && installed.current ? installed.current : await binaryVersion(found.path);
  const what = found.isGw ? "gw mock (the stand-in; this path is gw itself)" : foldersOwn ? "CLIProxyAPI (version not asked: the binary came with this folder, and only gw up runs it; its -h says it)" : `CLIProxyAPI ${version ?? "(version unknown)"}`;
  const warning = keylessInternalWarning(version);
  return {
    text: [`${what} — ${displayPath(found.path)} (${SOURCE_WORDS[found.source]})`, ...(warning ? [`warning: ${warning}`] : []), ...(others ? [others] : [])].join("\n"),
    data: { found: true, path: found.path, source: found.source, mock: found.isGw, version, versionAsked: asked, installed: installed.versions, current: installed.current, ...(warning && { warning }) },
  };
}
