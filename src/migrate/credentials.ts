// OAuth credentials of the old layout. The old instances all used the config's folder as their
// auth dir; gw gives each instance its own `auths/NAME/`, so after switching every OAuth route
// would fail. CLIProxyAPI's credential files are JSON objects with a `type` naming the provider
// (antigravity-<email>.json, claude-<email>.json, codex-…json, kimi-<ms>.json, xai-…json, and the
// removed Gemini CLI login's gemini-<email>-<project>.json); that `type` says which instances need
// the file: those with a provider of the matching type.

import { lstatSync, realpathSync, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Config, InstanceConfig, ProviderType } from "../config/types.ts";
import { DOES_NOT_EXIST, readSmallFile } from "../fs/read-small.ts";

/** Credential `type` → the gw provider type whose instances use it. */
const PROVIDER_OF: Readonly<Record<string, ProviderType>> = {
  antigravity: "antigravity",
  claude: "claude",
  codex: "codex",
  kimi: "kimi",
  xai: "xai",
  gemini: "gemini", // the Gemini CLI login (`gw login NAME gemini`), read by CLIProxyAPI before v7.2.20
  vertex: "gemini", // a Vertex service account imported with -vertex-import
};
/** Types CLIProxyAPI once had and removed (2026-04): recognised, with nowhere to go. */
const RETIRED = new Set(["qwen", "iflow"]);
const MAX_CREDENTIAL_BYTES = 1 << 20;

export interface Credential {
  /** Absolute path. */
  readonly file: string;
  readonly name: string;
  /** The file's `type`, lower-cased. */
  readonly type: string;
  readonly bytes: Uint8Array;
  /** When it was last written (ms): a token refresh rewrites the file. */
  readonly modified: number;
  /**
   * The gw instances it belongs to: found only in the own auth dirs of these old instances, which
   * kept their accounts apart. Undefined for a login of the shared folder: every instance of its type.
   */
  readonly owners?: readonly string[];
}

/** The credential files directly in `dir` (not below it), by name; `owners` as Credential.owners says. */
export async function credentialsIn(dir: string, owners?: readonly string[]): Promise<Credential[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const found: Credential[] = [];
  for (const name of names.sort()) {
    if (!name.toLowerCase().endsWith(".json")) continue;
    const file = join(dir, name);
    const read = readSmallFile(file, MAX_CREDENTIAL_BYTES); // a FIFO named *.json is passed over, not waited on
    if ("why" in read) continue;
    const type = credentialType(read.bytes);
    if (type) found.push({ file, name, type, bytes: read.bytes, modified: modified(file), ...(owners ? { owners } : {}) });
  }
  return found;
}

/**
 * One credential per file name: several old auth dirs may each hold a copy of the same login
 * (its name is its account), and the one written last is the one a refresh rewrote. It belongs to
 * the owners of every folder it was found in (to all when one of them is the shared folder).
 */
export function newestByName(found: readonly Credential[]): Credential[] {
  const newest = new Map<string, Credential>();
  for (const c of found) {
    const was = newest.get(c.name);
    const pick = !was || c.modified > was.modified ? c : was;
    const { owners: _, ...rest } = pick;
    const owners = !was ? c.owners : was.owners && c.owners ? [...new Set([...was.owners, ...c.owners])] : undefined;
    newest.set(c.name, owners ? { ...rest, owners } : rest);
  }
  return [...newest.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const modified = (file: string) => statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0;

function credentialType(bytes: Uint8Array): string | undefined {
  try {
    const o = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    const t = typeof o?.type === "string" ? o.type.trim().toLowerCase() : "";
    return Object.hasOwn(PROVIDER_OF, t) || RETIRED.has(t) ? t : undefined; // not `in`: "constructor" is no type
  } catch {
    return undefined;
  }
}

/** Instances gw starts that have a provider using credentials of `type`. */
export function instancesFor(config: Config, type: string): InstanceConfig[] {
  const provider = Object.hasOwn(PROVIDER_OF, type) ? PROVIDER_OF[type] : undefined;
  return provider ? config.instances.filter((i) => i.managed && i.providers.some((p) => p.type === provider)) : [];
}

export type StepAction =
  /** Copy into this instance's auth dir. */
  | "copy"
  /** Another instance gets the same file: a hard link to that copy, so a refreshed token written by either is on disk for both, as it was in the shared folder. */
  | "link"
  | "already there"
  /**
   * A different copy of the same login is there and was written after the old folder's: the
   * instance's, kept. CLIProxyAPI rewrites a login at each token refresh and refresh tokens
   * rotate, so the instance's copy is the live one; the next instances are linked to it.
   */
  | "kept"
  /** A copy of the same login is there, older than the old folder's (an old instance still refreshing it?): left alone. */
  | "older"
  /** Something else of that name is there (no login of this type, not a regular file): left alone. */
  | "conflict"
  /** No instance has a provider of this type (of the login's owners, when it has some). */
  | "no instance";

export interface Step {
  readonly credential: string;
  readonly type: string;
  readonly action: StepAction;
  readonly instance?: string;
  /** The gw instances the login belongs to (Credential.owners): only those get it. */
  readonly owners?: readonly string[];
  /** Destination path. */
  readonly to?: string;
  /** For "link": the file it links to (this run's copy, or the same login already in an earlier instance's auth dir). */
  readonly from?: string;
  /** After --apply, for "copy" and "link": whether it was written (false for the one that failed and those after it). */
  readonly done?: boolean;
}

/** What migrating the old folder's credentials would do (reads, never writes). */
export async function planCredentials(config: Config, old: readonly Credential[]): Promise<Step[]> {
  const steps: Step[] = [];
  for (const c of old) {
    const owners = c.owners ? { owners: c.owners } : {};
    const targets = instancesFor(config, c.type).filter((i) => !c.owners || c.owners.includes(i.name));
    if (targets.length === 0) {
      steps.push({ credential: c.name, type: c.type, action: "no instance", ...owners });
      continue;
    }
    let first: string | undefined;
    const planned = new Set<string>();
    for (const inst of targets) {
      const to = join(inst.authDir, c.name);
      if (planned.has(to)) continue; // instances sharing one auth_dir share this file already
      planned.add(to);
      const there = to === c.file ? c.bytes : inPlace(to);
      const action: StepAction = there === null ? (first ? "link" : "copy") : compared(c, to, there);
      steps.push({ credential: c.name, type: c.type, action, instance: inst.name, to, ...(action === "link" ? { from: first } : {}), ...owners });
      if (!first && (action === "copy" || action === "already there" || action === "kept")) first = linkable(to); // the one file the next instances share
    }
  }
  return steps;
}

/**
 * The file a hard link to `to` must name: a login that is a symbolic link is linked by the file it
 * points to — a hard link to the link itself would be that link again, and a relative one dangles
 * from an auth dir at another depth.
 */
function linkable(to: string): string {
  try {
    return lstatSync(to).isSymbolicLink() ? realpathSync(to) : to;
  } catch {
    return to; // nothing there yet: this run's copy
  }
}

/** What the file already at a login's destination is to the old folder's copy `c`. */
function compared(c: Credential, to: string, there: Uint8Array | "other"): StepAction {
  if (there === "other" || credentialType(there) !== c.type) return "conflict";
  if (Buffer.compare(there, c.bytes) === 0) return "already there";
  // Written after the old folder's copy: a refresh (or a login) of the instance's own. A copy
  // touched later in the old folder means something still refreshes it there.
  return modified(to) >= c.modified ? "kept" : "older";
}

/** What is at a login's destination: its bytes, null when nothing is, "other" for anything but a small regular file (a FIFO would block the read). */
function inPlace(to: string): Uint8Array | null | "other" {
  const read = readSmallFile(to, MAX_CREDENTIAL_BYTES);
  if ("bytes" in read) return read.bytes;
  return read.why === DOES_NOT_EXIST ? null : "other";
}

/** One line per step, paths relative to the config's folder. */
export function describeStep(s: Step, dir: string): string {
  const to = s.to ? relative(dir, s.to) : "";
  switch (s.action) {
    case "copy":
      return `${s.credential} (${s.type}) → ${to}`;
    case "link":
      return `${s.credential} (${s.type}) → ${to} (hard link to ${relative(dir, s.from!)}: one file, as in the old shared folder)`;
    case "already there":
      return `${s.credential} (${s.type}) is already in ${to}`;
    case "kept":
      return `${s.credential} (${s.type}): ${to} differs and is newer — kept as the instance's live login (CLIProxyAPI rewrites it at each token refresh, and refresh tokens rotate: the old folder's copy may no longer work)`;
    case "older":
      return `${s.credential} (${s.type}): ${to} differs and is older than the old folder's copy — left alone (once no old instance runs from the old folder, remove it and run again to replace it)`;
    case "conflict":
      return `${s.credential} (${s.type}): ${to} exists and is not this login — left alone (move it away and run again to copy the login there)`;
    case "no instance":
      return RETIRED.has(s.type)
        ? `${s.credential} (${s.type}): CLIProxyAPI no longer supports ${s.type} logins — not copied`
        : s.owners && !NO_INSTANCE_FIX[s.type]
          ? notOwnersType(s, s.owners)
          : `${s.credential} (${s.type}): no instance gw starts has a provider of type ${PROVIDER_OF[s.type]} — not copied (${NO_INSTANCE_FIX[s.type] ?? `add { type = "${PROVIDER_OF[s.type]}" } to an instance's providers`})`;
  }
}

/** A login of old instances with their own auth dir, whose gw instances have no provider of its type: never handed to another. */
function notOwnersType(s: Step, owners: readonly string[]): string {
  const one = owners.length === 1;
  const names = owners.join(" and ");
  const quoted = owners.map((o) => `"${o}"`).join(" and ");
  const type = PROVIDER_OF[s.type];
  return `${s.credential} (${s.type}): a login of old instance${one ? "" : "s"} ${quoted}, and gw's instance${one ? "" : "s"} ${names} ${one ? "has" : "have"} no provider of type ${type} — not copied (add { type = "${type}" } to ${one ? "its" : "their"} providers)`;
}

/**
 * What to do with a login no instance takes, where adding a provider of its type is not it: in
 * gw, "gemini" is an API-key provider (it needs api_keys), not a home for these files.
 */
const NO_INSTANCE_FIX: Readonly<Record<string, string>> = {
  gemini: "a Gemini CLI login, which CLIProxyAPI v7.2.20 and later no longer read: for Gemini models use an antigravity provider (gw login NAME antigravity), or a gemini provider with api_keys",
  vertex: "a Vertex service account: CLIProxyAPI reads it from an instance's auth dir, whatever its providers — copy it into auths/NAME/ of the instance that should serve Vertex models",
};
