// The OAuth credential types in an instance's auth-dir, as CLIProxyAPI's file store reads them:
// every *.json below the directory, its "type" naming the provider (codex, claude, antigravity,
// …). Only the types are kept — the mock never uses a credential — to know which executor would
// serve a model no YAML section lists (upstream.ts).

import { readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** `~` is the home directory; a relative path is taken from the working directory, as CLIProxyAPI does. */
export function resolveAuthDir(dir: string): string {
  return resolve(dir === "~" || dir.startsWith("~/") ? join(homedir(), dir.slice(1)) : dir);
}

/** Provider types of the credential files under `dir`, in path order; [] when it cannot be read. */
export function authTypes(dir: string | undefined): string[] {
  if (!dir) return [];
  let files: string[];
  try {
    files = readdirSync(resolveAuthDir(dir), { recursive: true, encoding: "utf8" });
  } catch {
    return [];
  }
  const types: string[] = [];
  for (const f of files.filter((n) => n.toLowerCase().endsWith(".json")).sort()) {
    const type = typeOf(join(resolveAuthDir(dir), f));
    // Gemini CLI credentials ("gemini") are skipped by current CLIProxyAPI (its login was removed).
    if (type && type !== "gemini" && !types.includes(type)) types.push(type);
  }
  return types;
}

function typeOf(file: string): string | undefined {
  try {
    const meta = JSON.parse(readFileSync(file, "utf8")) as { type?: unknown };
    return typeof meta.type === "string" ? meta.type.trim().toLowerCase() || undefined : undefined;
  } catch {
    return undefined;
  }
}
