// The OAuth credential types in an instance's auth-dir, as CLIProxyAPI's file store reads them:
// every *.json below the directory, its "type" naming the provider (codex, claude, antigravity,
// …). Only the types are kept — the mock never uses a credential — to know which executor would
// serve a model no YAML section lists (upstream.ts).

import { type Dirent, readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** `~` is the home directory; a relative path is taken from the working directory, as CLIProxyAPI does. */
export function resolveAuthDir(dir: string): string {
  return resolve(dir === "~" || dir.startsWith("~/") ? join(homedir(), dir.slice(1)) : dir);
}

/**
 * Provider types of the credential files under `dir`, in path order; [] when it cannot be read.
 * What it skips (no file, too large, no JSON) `warn` is told in one line, the names quoted.
 */
export function authTypes(dir: string | undefined, warn: (line: string) => void = console.error): string[] {
  if (!dir) return [];
  const root = resolveAuthDir(dir);
  const types: string[] = [];
  const skipped: string[] = [];
  for (const f of jsonFiles(root)) {
    const { type, why } = typeOf(join(root, f));
    if (why) skipped.push(`${JSON.stringify(f)} (${why})`);
    // Gemini CLI credentials ("gemini") are skipped by current CLIProxyAPI (its login was removed).
    if (type && type !== "gemini" && !types.includes(type)) types.push(type);
  }
  if (skipped.length) warn(`gw mock: auth-dir ${JSON.stringify(root)}: skipped ${skipped.join(", ")}`);
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

/** A credential file's provider type (none when it names none), or why it was not read: a FIFO's read would never return. */
function typeOf(file: string): { type?: string; why?: string } {
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) return { why: "not a file" };
    if (st.size > MAX_FILE) return { why: "over 1 MiB" };
    text = readFileSync(file, "utf8");
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
