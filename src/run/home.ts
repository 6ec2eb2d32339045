// Reading and writing the files of an agent's gw-managed home, and finding the user's own. Files
// gw merges into (an agent also writes its own state there) are read leniently: a missing file
// is empty, one that does not parse is replaced — it lives in gw's directory, not the user's.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import type { Env } from "../config/env.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { isObject } from "../json/object.ts";

export type Json = Record<string, unknown>;

/** A JSON or TOML file's top-level table; {} when the file is missing or not such a document. */
export function readTable(file: string): Json {
  const doc = readDocument(file);
  return typeof doc === "object" ? doc : {};
}

/** A JSON or TOML file's top-level table; undefined when the file is missing, "unreadable" when it is not such a document. */
export function readDocument(file: string): Json | undefined | "unreadable" {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    const doc: unknown = file.endsWith(".toml") ? parseToml(text) : JSON.parse(text);
    return isObject(doc) ? doc : "unreadable";
  } catch {
    return "unreadable";
  }
}

/** Write a table as JSON or TOML (by the file's extension), private and atomic. */
export function writeTable(file: string, table: Json): Promise<void> {
  const text = file.endsWith(".toml") ? `${stringifyToml(table)}\n` : `${JSON.stringify(table, null, 2)}\n`;
  return writeFileAtomic(file, text, 0o600);
}

/** The user's own config home of an agent: `$VAR` when their shell sets it, else ~/DIR. */
export function userHome(env: Env, variable: string, dir: string): string {
  return env[variable] || join(env.HOME || homedir(), dir);
}

/** `table[key]` as a table ({} when absent or not one), for merging into. */
export const tableAt = (table: Json, key: string): Json => (isObject(table[key]) ? { ...(table[key] as Json) } : {});
