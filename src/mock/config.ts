// Reads the parts of a CLIProxyAPI config YAML that the mock imitates: where to listen, which
// client keys to accept, which models its provider sections register, its SSE keep-alive and
// where its OAuth credentials are.

import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { isObject, type JsonObject, objectsIn } from "../json/object.ts";

export interface MockModel {
  id: string;
  /** CLIProxyAPI's provider key for the section that registered it (owned_by, error texts). */
  provider: string;
  /** owned_by when it is not the provider (an OAuth credential's built-in models). */
  ownedBy?: string;
}

export interface InstanceFile {
  name: string;
  host?: string;
  port?: number;
  apiKeys: string[];
  models: MockModel[];
  keepaliveMs?: number;
  nonstreamKeepaliveMs?: number;
  passthroughHeaders: boolean;
  /** Where the instance's OAuth credential files are (as written: `~` and relative paths unresolved). */
  authDir?: string;
}

/** Key-provider sections and the provider name CLIProxyAPI registers their models under. */
const KEY_SECTIONS: Record<string, string> = {
  "claude-api-key": "claude",
  "gemini-api-key": "gemini",
  "vertex-api-key": "vertex",
  "codex-api-key": "codex",
  "xai-api-key": "xai",
};

function modelsOf(entry: JsonObject, provider: string): MockModel[] {
  return objectsIn(entry.models).flatMap((m) => {
    const id = typeof m.alias === "string" && m.alias ? m.alias : m.name;
    return typeof id === "string" && id ? [{ id, provider }] : [];
  });
}

/** Pure: the instance facts in a parsed YAML document (name from the file's base name). */
export function instanceFromYaml(doc: unknown, name: string): InstanceFile {
  const d = isObject(doc) ? doc : {};
  const models: MockModel[] = [];
  for (const [section, provider] of Object.entries(KEY_SECTIONS)) {
    for (const entry of objectsIn(d[section])) models.push(...modelsOf(entry, provider));
  }
  for (const entry of objectsIn(d["openai-compatibility"])) {
    models.push(...modelsOf(entry, typeof entry.name === "string" ? entry.name.toLowerCase() : "openai-compatibility"));
  }
  if (isObject(d["oauth-model-alias"])) {
    for (const [provider, aliases] of Object.entries(d["oauth-model-alias"])) {
      for (const a of objectsIn(aliases)) if (typeof a.alias === "string" && a.alias) models.push({ id: a.alias, provider });
    }
  }
  const keys = Array.isArray(d["api-keys"]) ? d["api-keys"].filter((k): k is string => typeof k === "string" && !!k.trim()) : [];
  const streaming = isObject(d.streaming) ? d.streaming : {};
  const ka = Number(streaming["keepalive-seconds"]);
  const nska = Number(d["nonstream-keepalive-interval"]);
  return {
    name,
    host: typeof d.host === "string" ? d.host : undefined,
    port: typeof d.port === "number" ? d.port : undefined,
    apiKeys: keys.map((k) => k.trim()),
    models,
    keepaliveMs: ka > 0 ? ka * 1000 : undefined,
    nonstreamKeepaliveMs: nska > 0 ? nska * 1000 : undefined,
    passthroughHeaders: d["passthrough-headers"] === true,
    authDir: typeof d["auth-dir"] === "string" && d["auth-dir"] ? d["auth-dir"] : undefined,
  };
}

/** Reads instances/X.yaml at start-up (not on the request path). Throws with the file named. */
export function readInstanceFile(file: string): InstanceFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read config ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let doc: unknown;
  try {
    // Bun's own parser: the yaml package costs every mock start ~70 ms of CPU to load (its 70-odd
    // modules) — the tests start hundreds of mock instances. Both read what gw writes the same
    // (test/mock/config-yaml.test.ts).
    doc = Bun.YAML.parse(firstDocument(text));
  } catch (err) {
    throw new Error(`${file}: invalid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  // Read as no settings at all — no port, no keys, no models — it would be a mock nobody asked for.
  if (doc != null && !isObject(doc)) throw new Error(`${file}: not a mapping of settings (CLIProxyAPI does not start with it either)`);
  return instanceFromYaml(doc, basename(file, extname(file)));
}

const DOCUMENT_MARKER = /^(---|\.\.\.)(\s|$)/;

/**
 * The text of the file's first YAML document: CLIProxyAPI reads only that one (Go yaml.v3
 * Unmarshal), while Bun's parser gives every document, as a list. A document ends at a marker
 * line ("---", "...") after its content; a marker at column 0 is one wherever it stands (YAML 1.2).
 */
function firstDocument(text: string): string {
  const lines = text.split("\n");
  let content = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (DOCUMENT_MARKER.test(line)) {
      if (content) return lines.slice(0, i).join("\n");
      content = line.startsWith("---") && !/^\s*(#|$)/.test(line.slice(3));
    } else if (!content && !line.startsWith("%") && !/^\s*(#|$)/.test(line)) content = true;
  }
  return text;
}
