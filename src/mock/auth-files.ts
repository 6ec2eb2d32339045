// The OAuth credential types in an instance's auth-dir, as CLIProxyAPI's file store reads them:
// every *.json below the directory, its "type" naming the provider (codex, claude, antigravity,
// …). Only the types are kept — the mock never uses a credential — to know which models the
// credentials register (oauth-models.ts). Read at start and again after each change (watch-dir.ts);
// a file that no longer reads keeps what it last gave, as CLIProxyAPI's watcher keeps a changed
// file's credential when the new contents fail to read or parse (clients.go addOrUpdateClient).

import { type Dirent, readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { withHome } from "../fs/home-path.ts";

/** `~` is the home directory; a relative path is taken from the working directory, as CLIProxyAPI does. */
function resolveAuthDir(dir: string): string {
  return resolve(withHome(dir, homedir()));
}

/** What a read of auth-dir found. */
export interface AuthScan {
  /** The directory read (resolved); none without an auth-dir. */
  root?: string;
  /** Each credential file (path under root) and its provider type; none when it names none. */
  files: ReadonlyMap<string, string | undefined>;
  /** The files not read, and why. */
  skipped: ReadonlyMap<string, string>;
}

/**
 * Reads the credential files under `dir`. A file that does not read now keeps the type it had in
 * `previous` (a read of the same directory), and an empty one is passed over in silence (a writer
 * that has not written yet); what is newly skipped `warn` is told in one line, the names quoted.
 */
export function scanAuthDir(dir: string | undefined, previous?: AuthScan, warn: (line: string) => void = console.error): AuthScan {
  if (!dir) return { files: new Map(), skipped: new Map() };
  const root = resolveAuthDir(dir);
  const before = previous?.root === root ? previous : undefined;
  const files = new Map<string, string | undefined>();
  const skipped = new Map<string, string>();
  for (const f of jsonFiles(root)) {
    const { type, why } = typeOf(join(root, f));
    if (!why) {
      files.set(f, type);
      continue;
    }
    if (why !== EMPTY) skipped.set(f, why);
    if (before?.files.has(f)) files.set(f, before.files.get(f));
  }
  const fresh = [...skipped].filter(([f, why]) => before?.skipped.get(f) !== why);
  const said = fresh.map(([f, why]) => `${JSON.stringify(f)} (${why}${before?.files.has(f) ? "; its last contents still count" : ""})`);
  if (said.length) warn(`gw mock: auth-dir ${JSON.stringify(root)}: skipped ${said.join(", ")}`);
  return { root, files, skipped };
}

/** The provider types of a scan's credentials, in path order, each once. */
export function typesIn(scan: AuthScan): string[] {
  const types: string[] = [];
  // Gemini CLI credentials ("gemini") are skipped by current CLIProxyAPI (its login was removed).
  for (const type of scan.files.values()) if (type && type !== "gemini" && !types.includes(type)) types.push(type);
  return types;
}

// --- internal ---

/** Far more than a credential file holds (a few KB): one of gigabytes is not read whole at start. */
const MAX_FILE = 1 << 20;

/**
 * The *.json paths under `root`, sorted. A symlinked directory is not entered (Go's WalkDir, which
 * CLIProxyAPI's store walks with, does not either): one pointing up would be a loop.
 */
function jsonFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(rel, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.toLowerCase().endsWith(".json")) out.push(path);
    }
  };
  walk("");
  return out.sort();
}

/** Why an empty file was not read: CLIProxyAPI passes over it without a word. */
const EMPTY = "empty";

/** A credential file's provider type (none when it names none), or why it was not read: a FIFO's read would never return. */
function typeOf(file: string): { type?: string; why?: string } {
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) return { why: "not a file" };
    if (st.size > MAX_FILE) return { why: "over 1 MiB" };
    text = readFileSync(file, "utf8");
    if (text === "") return { why: EMPTY };
  } catch (err) {
    return { why: (err as NodeJS.ErrnoException).code ?? "unreadable" };
  }
  let meta: { type?: unknown };
  try {
    meta = JSON.parse(text) as { type?: unknown };
  } catch {
    return { why: "not JSON" };
  }
  return { type: typeof meta?.type === "string" ? meta.type.trim().toLowerCase() || undefined : undefined };
}
