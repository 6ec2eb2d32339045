// `gw deploy [user@]host`: ship this config and the right gw binary to a host and start (or
// upgrade, dropping nothing) gw there. Every step either completes or is undone: the upload is
// proven on the host (checksum, the binary runs, gw check passes) before anything is replaced,
// and a gw that does not come up healthy is rolled back to the previous binary and config.
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { CliError } from "../cli/errors.ts";
import { undoneOnSignal } from "../cli/interrupt.ts";
import type { Config } from "../config/types.ts";
import { isUnder, realOf } from "../fs/same-path.ts";
import { freePort } from "../supervisor/ports.ts";
import { unitPath } from "../supervisor/service.ts";
import { targetFor } from "../release/targets.ts";
import { artefactFor } from "./artefact.ts";
import { lastLine, Remote, type RunResult } from "./remote.ts";
import * as sh from "./scripts.ts";

interface DeployOptions {
  readonly destination: string;
  /** Directory on the host; relative means under the remote user's home. */
  readonly dir: string;
  readonly service: boolean;
  readonly dryRun: boolean;
  /** The local config, valid (the command loaded it). */
  readonly config: Config;
  readonly say: (line: string) => void;
}

/** What a deploy did, for `gw deploy --json`. */
interface DeployResult {
  readonly host: string;
  readonly target: string;
  readonly version: string;
  /** What happened to gw there (a dry run: what would). */
  readonly action: "upgraded" | "started";
  readonly dryRun: boolean;
  /** The gw now serving there (null in a dry run, or when it did not answer `gw status`). */
  readonly pid: number | null;
  readonly url: string | null;
  readonly instances: readonly { readonly name: string; readonly state: string }[];
}

/** How long the new gw gets to answer /healthz through the tunnel. */
const HEALTH_TIMEOUT_MS = 60_000;

/** A step that failed, in one line; rollback() then says what was undone. */
class StepError extends Error {}

export async function deploy(o: DeployOptions): Promise<DeployResult> {
  // The host's answers are read a line each (key=value): a newline in DIR would answer for it (os=Darwin).
  if (/[\x00-\x1f\x7f]/.test(o.dir)) {
    throw new CliError(`--dir ${JSON.stringify(o.dir)} holds a control character (a newline, a tab…): no directory on the host is named so`, 1, "give the directory's name without it");
  }
  const remote = await Remote.open(o.destination);
  const work = await mkdtemp(join(tmpdir(), "gw-deploy-"));
  // Everything this deploy makes here (the packed gw among it) is in `work`: gone however it ends.
  const undo = async () => {
    await remote.close();
    await rm(work, { recursive: true, force: true });
  };
  try {
    return await undoneOnSignal(() => run(o, remote, work), undo);
  } finally {
    await undo();
  }
}

async function run(o: DeployOptions, remote: Remote, work: string): Promise<DeployResult> {
  const host = o.destination;
  const say = o.say;
  /** A step's script: printed in a dry run, run otherwise. */
  const step = async (title: string, script: string): Promise<RunResult> => {
    say(`${o.dryRun ? "would" : "→"} ${title}`);
    if (o.dryRun) {
      for (const line of script.trimEnd().split("\n")) say(`    ${line}`);
      return { code: 0, stdout: "", stderr: "" };
    }
    return remote.sh(script);
  };

  // 1. What the host is (read-only, also in a dry run).
  say(`→ looking at ${host} (ssh)`);
  const probe = await remote.sh(sh.probeScript(o.dir));
  if (probe.code !== 0 || !probe.stdout.includes("os=")) {
    throw new CliError(`cannot reach ${host} over ssh: ${lastLine(probe.stderr) || `exit ${probe.code}`}`, 1, `"${remote.ssh}" must log in without a password prompt (a key or the agent); accept its host key once with: ${remote.ssh}`);
  }
  const f = sh.parseProbe(probe.stdout);
  const choice = targetFor({ os: f.get("os") ?? "", machine: f.get("machine") ?? "", musl: f.get("musl") === "1", avx2: f.get("avx2") !== "0" });
  if ("error" in choice) throw new CliError(`${host}: ${choice.error}`);
  const root = f.get("uid") === "0";
  const systemd = f.get("systemd") === "1";
  const running = f.get("running") === "1";
  const p = sh.hostPaths(f.get("dir") ?? sh.remoteDir(o.dir, f.get("home") ?? "~"));
  const current = f.get("current");
  const was = current ? describeVersion(current) : "no gw";
  say(`  ${host}: ${f.get("os")} ${f.get("machine")}${f.get("musl") === "1" ? " (musl)" : ""} → ${choice.target}; ${p.dir}: ${was}${current ? (running ? ", running" : ", stopped") : ""}; systemd ${systemd ? "running" : "not running"}`);
  if (choice.target === "linux-x64-musl") say("  (musl hosts need the C++ runtime: apk add libstdc++ libgcc)");
  if (f.get("writable") === "0") {
    const user = f.get("user") ?? "the ssh user";
    throw new CliError(`${host}: ${user} cannot write ${p.dir} (${f.get("blocked")}: not a directory ${user} may write); nothing was changed`, 1, `deploy into a directory ${user} owns (--dir DIR, default ~/gw), or create it for them once: ${remote.typed("sudo", "install", "-d", "-o", user, p.dir)}`);
  }

  // 2. The binary for it, and what goes with it.
  const art = await artefactFor(choice.target, say, work, o.dryRun);
  say(`  gw ${art.version} for ${art.target}: ${basename(art.archive)} (${art.source})`);
  // The host's gw reads DIR/providers.toml, whatever the file is called here.
  const files = [basename(o.config.file) === sh.CONFIG_NAME ? o.config.file : join(work, sh.CONFIG_NAME)];
  if (files[0] !== o.config.file) {
    await copyFile(o.config.file, files[0]!);
    say(`  ${basename(o.config.file)} travels as ${sh.CONFIG_NAME}, the name gw reads there`);
  }
  const envFile = join(o.config.dir, ".env");
  if (existsSync(envFile)) files.push(envFile);
  const auths = authDirs(o.config);
  for (const a of auths.outside) say(`  ${notCopiedLine(o.config.dir, a)}`);
  if (auths.inside.length) {
    const tarball = join(work, "auths.tar.gz");
    if (!o.dryRun) await packRelative(o.config.dir, tarball, auths.inside);
    files.push(tarball);
  }
  // Files the config includes (the router's config_file) go where the config names them.
  const included = inOrOut(o.config.dir, (o.config.includes ?? []).filter((f) => existsSync(f)));
  included.inside = included.inside.filter((f) => !sh.isDeployOwn(f)); // an include may not stand in for gw's own files
  for (const f of included.outside) say(`  not copied: ${f}, which the config includes, is outside ${o.config.dir} (the host must have it at that path)`);
  if (included.inside.length) {
    const tarball = join(work, sh.INCLUDED_TARBALL);
    if (!o.dryRun) await packRelative(o.config.dir, tarball, included.inside);
    files.push(tarball);
  }
  const platform = f.get("os") === "Darwin" ? "darwin" : "linux";
  const unitFile = o.service ? unitPath({ root, home: f.get("home") ?? "", platform }) : null;

  // 3. Upload and prove it on the host; nothing there has changed yet. A host that already runs
  // this very binary (a config-only deploy) does not get the ~50 MB archive again.
  const prepared = await step(`prepare ${p.next}`, sh.prepareScript(p));
  if (prepared.code !== 0) throw new CliError(`${host}: cannot prepare ${p.next}: ${lastLine(prepared.stderr)}; nothing was changed`, 1, `deploy into a directory the ssh user owns (--dir DIR, default ~/gw)`);
  const sameBinary = art.binarySha256 !== "" && art.binarySha256 === f.get("current_sha256");
  if (sameBinary) say(`  ${host} already has this gw binary: only the config travels`);
  const uploads = sameBinary ? files : [art.archive, ...files];
  say(`${o.dryRun ? "would" : "→"} copy ${uploads.map((u) => basename(u)).join(", ")} to ${host}:${p.next}`);
  if (!o.dryRun) await remote.copy(uploads, p.next);
  const archiveBase = basename(art.archive);
  const upload = sameBinary ? ("same binary" as const) : { archive: archiveBase, sha256: art.sha256 || "SHA256-OF-THE-ARCHIVE", release: archiveBase.replace(/\.tar\.gz$/, "") };
  const stage = await step("check the upload there: checksum, the binary runs, gw check on the new config", sh.stageScript(p, upload));
  if (stage.code !== 0) {
    const why = (stage.stderr.trim() || stage.stdout.trim()).split("\n").slice(-5).join("\n  ");
    throw new CliError(`the new gw does not pass on ${host}; nothing there was changed:\n  ${why}`, 1, "fix the config (gw check lists every problem) and deploy again");
  }

  // What the host's gw check said beyond passing: a config that works here may not be the same there.
  for (const line of `${stage.stdout}\n${stage.stderr}`.split("\n")) if (/\bwarning: /.test(line)) say(`  ${host}: ${line.replaceAll(`${p.next}/`, "").trim()}`);

  // 4. Replace, start or upgrade, check health — or undo.
  const installed = await step(`install into ${p.dir} (keeping the previous files in ${p.previous})`, sh.installScript(p, unitFile, included.inside));
  if (installed.code !== 0) throw new CliError(`installing on ${host} failed: ${lastLine(installed.stderr)}`, 1, "the previous files are in .gw/deploy/previous");
  // What it did beyond replacing: the host's .env removed, or kept and why (a deploy without one).
  for (const line of installed.stdout.split("\n")) if (line.trim()) say(`  ${host}: ${line.trim()}`);
  let started: "upgraded" | "started" | null = null;
  try {
    if (unitFile) {
      const kind = platform === "darwin" ? "launchd agent" : `systemd ${root ? "system" : "user"} unit`;
      const unit = await step(`write the ${kind} ${unitFile}`, sh.gwScript(p, ["service", "install", "--write"]));
      if (unit.code !== 0) throw new StepError(`writing the ${kind} failed: ${lastLine(unit.stderr)}`);
      if (platform === "darwin") say(`  ${host}: the agent starts gw at ${f.get("user") ?? "the user"}'s next login; gw starts without it now`);
      else if (systemd) {
        const en = await step("enable it", sh.systemctlScript(root, ["daemon-reload"]) + sh.systemctlScript(root, ["enable", "gw"]).replace("set -eu\n", ""));
        if (en.code !== 0) throw new StepError(`systemctl enable failed: ${lastLine(en.stderr)}`);
        if (!root && f.get("linger") !== "1") {
          const user = f.get("user") ?? "the ssh user";
          say(`  ${host}: a user unit stops when ${user}'s last session ends; to keep gw running after logout, once: ${remote.typed("sudo", "loginctl", "enable-linger", user)}`);
        }
      } else say(`  systemd is not running on ${host}: the unit is there for when it boots with systemd; gw starts without it now`);
    }
    if (running) {
      const up = await step(`upgrade the running gw to the new binary (its streams finish, its instances are kept)`, sh.gwScript(p, ["upgrade", `${p.dir}/gw`, "--json"]));
      const out = o.dryRun ? { ok: true } : parseJson<{ ok: boolean; problem?: string; pid?: number }>(up.stdout);
      if (!out?.ok) throw new StepError(`the upgrade did not happen: ${out?.problem ?? lastLine(up.stderr)}`);
      started = "upgraded";
    } else {
      const viaSystemd = unitFile && systemd;
      const up = await step(viaSystemd ? "start gw (systemctl start gw)" : "start gw (gw up -d)", viaSystemd ? sh.systemctlScript(root, ["start", "gw"]) : sh.gwScript(p, ["up", "-d", "--json"]));
      // gw up -d --json says why in its own words (problem); systemctl, on its last line
      if (up.code !== 0) throw new StepError(`gw did not start: ${parseJson<{ problem?: string }>(up.stdout)?.problem ?? (lastLine(up.stderr) || lastLine(up.stdout))}`);
      started = "started";
    }
    await waitHealthy(o, remote, p);
  } catch (err) {
    if (!(err instanceof StepError) || o.dryRun) throw err;
    say(`✗ ${err.message} — rolling back`);
    await rollback(o, remote, p, unitFile, included.inside, started, running, systemd, root);
    throw new CliError(`deploy to ${host} failed: ${err.message}; rolled back to the previous binary and config`, 1, running ? `see the host's log: ${remote.typed(`${p.dir}/gw`, "logs", "-c", `${p.dir}/providers.toml`)}` : `what the new gw said is in ${p.dir}/logs/gw.log there: ${remote.typed("tail", "-n", "50", `${p.dir}/logs/gw.log`)}`);
  }
  const status = o.dryRun ? null : await remoteStatus(remote, p);
  if (!o.dryRun) {
    const where = status ? ` (pid ${status.pid}, ${status.lb?.url ?? "no load balancer"}): ${status.instances.map((i) => `${i.name} ${i.state}`).join(", ")}` : "";
    say(`✓ gw ${started} on ${host}${where}`);
  }
  return {
    host,
    target: choice.target,
    version: art.version,
    action: started ?? "started",
    dryRun: o.dryRun,
    pid: status?.pid ?? null,
    url: status?.lb?.url ?? null,
    instances: status?.instances.map((i) => ({ name: i.name, state: i.state })) ?? [],
  };
}

interface RemoteStatus {
  readonly pid: number;
  readonly lb: { readonly url: string } | null;
  readonly instances: readonly { readonly name: string; readonly state: string; readonly problem?: string }[];
}

/** `gw status --json` of the gw in DIR (null when none answers). */
async function remoteStatus(remote: Remote, p: sh.HostPaths): Promise<RemoteStatus | null> {
  return parseJson<RemoteStatus>((await remote.sh(sh.gwScript(p, ["status", "--json"]))).stdout);
}

/** Instance states that need a fix (config, login, binary), not more waiting. */
const HOPELESS = new Set(["crashloop", "failed"]);

/** The host's own words about instances that are not ready: their problem lines. */
function notReadyWhy(status: RemoteStatus | null, names: readonly string[]): { hopeless: boolean; text: string } {
  const views = status?.instances.filter((i) => names.includes(i.name)) ?? [];
  return {
    hopeless: views.some((i) => HOPELESS.has(i.state)),
    text: views.map((i) => i.problem || `instance '${i.name}' is ${i.state}`).join("; ") || `not ready: ${names.join(", ")}`,
  };
}

/**
 * Poll /healthz on the host's LB through an ssh tunnel: the real HTTP path, no tool needed there.
 * Healthy means every instance ready. An instance in a crash loop (or that cannot start at all)
 * ends the wait at once, with the host's own words about it, instead of after the whole timeout.
 */
async function waitHealthy(o: DeployOptions, remote: Remote, p: sh.HostPaths): Promise<void> {
  const g = o.config.global;
  const target = g.bindHost === "0.0.0.0" || g.bindHost === "::" ? "127.0.0.1" : g.bindHost;
  o.say(`${o.dryRun ? "would" : "→"} wait for /healthz on ${target}:${g.mainPort} there (ssh tunnel)`);
  if (o.dryRun) return;
  const local = await freePort();
  await remote.forward(local, target, g.mainPort);
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  let last = "no answer";
  let notReady: string[] = [];
  let asked = 0;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${local}/healthz`, { signal: AbortSignal.timeout(5000), keepalive: false });
      const text = await res.text();
      const h = parseJson<{ status?: string; not_ready?: string[] }>(text);
      if (res.ok && h?.status === "ok") return;
      notReady = h?.not_ready ?? [];
      last = h?.status ? `${h.status}` : `HTTP ${res.status}`;
    } catch (e) {
      last = (e as Error).message;
      notReady = [];
    }
    if (notReady.length && Date.now() - asked > 2000) {
      asked = Date.now();
      const why = notReadyWhy(await remoteStatus(remote, p), notReady);
      if (why.hopeless) throw new StepError(`gw on ${o.destination} is ${last}: ${why.text}`);
    }
    await Bun.sleep(250);
  }
  const why = notReady.length ? `: ${notReadyWhy(await remoteStatus(remote, p), notReady).text}` : "";
  throw new StepError(`gw on ${o.destination} was not healthy within ${HEALTH_TIMEOUT_MS / 1000} s (${last})${why}`);
}

async function rollback(o: DeployOptions, remote: Remote, p: sh.HostPaths, unitFile: string | null, extras: readonly string[], started: "upgraded" | "started" | null, wasRunning: boolean, systemd: boolean, root: boolean): Promise<void> {
  const note = (r: RunResult, what: string) => r.code !== 0 && o.say(`  (${what} failed: ${lastLine(r.stderr)})`);
  // The gw this deploy started is stopped by its own binary and config, before they go.
  if (started === "started") {
    o.say("  stopping the gw this deploy started");
    note(await remote.sh(sh.gwScript(p, ["down"])), "gw down");
  }
  note(await remote.sh(sh.restoreScript(p, unitFile, extras)), "restoring the previous files");
  if (unitFile && systemd) note(await remote.sh(sh.systemctlScript(root, ["daemon-reload"])), "systemctl daemon-reload");
  if (started === "upgraded" && wasRunning) {
    o.say("  handing back to the previous binary (gw upgrade)");
    note(await remote.sh(sh.gwScript(p, ["upgrade", `${p.dir}/gw`, "--json"])), "the upgrade back");
  }
}

/**
 * Auth dirs of managed instances: inside the config's directory they are copied (relative paths).
 * Inside is where the directory really is, links resolved: tar follows a linked directory on the
 * way, so a cloned folder's `h -> ../../..` with auth_dir = "h/.ssh" would pack ~/.ssh for the host.
 */
export function authDirs(config: Pick<Config, "dir" | "instances">): { inside: string[]; outside: string[] } {
  return inOrOut(config.dir, config.instances.filter((i) => i.managed && existsSync(i.authDir)).map((i) => i.authDir));
}

/** `paths` inside `dir` (relative, each once) and outside it (as given): by their names, and where links lead. */
function inOrOut(dir: string, paths: readonly string[]): { inside: string[]; outside: string[] } {
  const inside: string[] = [];
  const outside: string[] = [];
  for (const path of paths) {
    const rel = relative(dir, path);
    if (!isUnder(dir, path) || !isUnder(realOf(dir), realOf(path))) outside.push(path);
    else if (!inside.includes(rel)) inside.push(rel);
  }
  return { inside, outside };
}

/**
 * Why an auth dir authDirs put outside is not copied, and what to do. One inside the folder by its
 * name but led out by a link (a user's own `auths -> ~/dotfiles/auths`, or a cloned folder's
 * trick) is not "outside" the folder its path names: say the link and where it leads.
 */
export function notCopiedLine(configDir: string, authDir: string): string {
  if (!isUnder(configDir, authDir)) return `not copied: auth_dir ${authDir} is outside ${configDir} (the host must have it at that path)`;
  return `not copied: auth_dir ${authDir} leads through a link to ${realOf(authDir)}, outside ${configDir} — copy it to the host yourself, or put the directory itself in place of the link`;
}

/**
 * Files or directories (relative to `dir`: auth dirs, included files) into one archive. Each as
 * `./NAME`: a directory a cloned repo brings may be called `--checkpoint-action=exec=…`, which
 * tar would otherwise take as an option and run here. The host finds the files below `.` either way.
 */
export async function packRelative(dir: string, tarball: string, inside: readonly string[]): Promise<void> {
  await Bun.$`tar -C ${dir} -czf ${tarball} ${inside.map((rel) => `./${rel}`)}`.quiet();
}

function describeVersion(json: string): string {
  const v = parseJson<{ version?: string; commit?: string }>(json);
  return v?.version ? `gw ${v.version} (${(v.commit ?? "").slice(0, 12)})` : "a gw that does not say its version";
}

/** JSON printed by a gw over ssh: the whole output (status --json is pretty-printed), else its last line. */
function parseJson<T>(text: string): T | null {
  for (const candidate of [text.trim(), text.trim().split("\n").pop() ?? ""]) {
    try {
      return JSON.parse(candidate) as T;
    } catch {}
  }
  return null;
}
