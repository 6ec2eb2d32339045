// Reading and writing the files of an agent's gw-managed home, and finding the user's own. Files
// gw merges into (an agent also writes its own state there) are read leniently: a missing file
// is empty, one that does not parse is replaced — it lives in gw's directory, not the user's.
// The user's own files are only read.
import { chmodSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import type { Env } from "../config/env.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { fsWhy, writeError, writeProblem } from "../fs/why.ts";
import { isObject } from "../json/object.ts";

export type Json = Record<string, unknown>;

/** A JSON or TOML file's top-level table; {} when the file is missing or not such a document. */
export function readTable(file: string): Json {
  const doc = readDocument(file);
  return typeof doc === "object" ? doc : {};
}

/**
 * A JSON or TOML file's top-level table; undefined when the file is missing, "unreadable" when it
 * is not such a document. JSON is read as the agents read their settings: comments and trailing
 * commas allowed (Gemini CLI, Qwen Code and opencode take them).
 */
export function readDocument(file: string): Json | undefined | "unreadable" {
  const text = readText(file);
  if (text === undefined) return undefined;
  try {
    const doc: unknown = file.endsWith(".toml") ? parseToml(text) : Bun.JSONC.parse(text);
    return isObject(doc) ? doc : "unreadable";
  } catch {
    return "unreadable";
  }
}

/**
 * The writer of one launch's files in an agent's home. A table the file holds already is not
 * written again — a launch like the last one writes nothing, so on a full disk it has nothing to
 * fail. The first write a file-system error refuses (a full disk) is said in one line, `cannot
 * write FILE: WHY — THEN` (`then`: how the agent starts without it), and the launch's later writes
 * are not tried: each file stays as it was, whole (the writes are atomic). `put` says whether the
 * file holds the table now; given `needed` (the hint for a refusal other than a full disk), a file
 * the agent cannot start without throws that one line as a CliError instead. Any other error (a
 * bug) is thrown as it came. `theirs`: top-level keys the agent adds to the file itself (Qwen Code's
 * `$version`); a file that differs from the table only by them at its end, where the agent puts
 * them, holds the table. A file left as it is is made private again (an agent's rewrite leaves it 0644).
 */
export function homeWriter(say: (line: string) => void, then: string) {
  let failed: unknown;
  return {
    async put(file: string, table: Json, needed?: string, theirs: readonly string[] = []): Promise<boolean> {
      const text = tableText(file, table);
      const now = readText(file);
      if (now === text || (theirs.length > 0 && now === tableText(file, withTheirs(file, table, theirs)))) {
        keepPrivate(file);
        return true;
      }
      if (failed === undefined) {
        try {
          await writeFileAtomic(file, text, 0o600);
          return true;
        } catch (e) {
          if (fsWhy(e) === undefined) throw e;
          failed = e;
          if (needed === undefined) say(`${writeProblem(file, e)} — ${then}`);
        }
      }
      if (needed !== undefined) throw writeError(failed, file, needed);
      return false;
    },
  };
}

/** The user's own config home of an agent: `$VAR` when their shell sets it, else ~/DIR. */
export function userHome(env: Env, variable: string, dir: string): string {
  return env[variable] || join(env.HOME || homedir(), dir);
}

/** `table[key]` as a table ({} when absent or not one), for merging into. */
export const tableAt = (table: Json, key: string): Json => (isObject(table[key]) ? { ...(table[key] as Json) } : {});

// --- internal ---

/** The table with the keys the agent added to the file (`theirs`, where gw sets none) after it, as the agent writes them. */
function withTheirs(file: string, table: Json, theirs: readonly string[]): Json {
  const doc = readTable(file);
  return { ...table, ...Object.fromEntries(theirs.filter((k) => !(k in table) && k in doc).map((k) => [k, doc[k]])) };
}

function keepPrivate(file: string): void {
  try {
    if ((statSync(file).mode & 0o777) !== 0o600) chmodSync(file, 0o600);
  } catch {
    // Not gw's to fix (another owner): the file still holds the table.
  }
}

const tableText = (file: string, table: Json): string => (file.endsWith(".toml") ? `${stringifyToml(table)}\n` : `${JSON.stringify(table, null, 2)}\n`);

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
