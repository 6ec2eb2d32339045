// The secrets gw has written for a config: the instance keys it keeps and what each instance's
// YAML carries (its key, provider keys, credentials in its proxy and base URLs). `gw logs` masks
// with these when providers.toml no longer loads — an edit in progress must not leave the
// instances' logs, which may quote their YAML, shown with only token shapes masked.

import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { readSmallText } from "../fs/read-small.ts";
import { urlSecrets } from "../observe/config-secrets.ts";

const KEY_FIELDS = new Set(["api-key", "api-keys"]);
const URL_FIELDS = new Set(["proxy-url", "base-url"]);

export async function writtenSecrets(dir: string): Promise<string[]> {
  const out: string[] = [];
  const texts = [readOr(join(dir, ".gw", "keys.json"))];
  const yamlDir = join(dir, "instances");
  const names = await readdir(yamlDir).catch(() => [] as string[]);
  for (const name of names) if (name.endsWith(".yaml")) texts.push(readOr(join(yamlDir, name)));
  for (const [i, text] of texts.entries()) {
    let doc: unknown;
    try {
      doc = i === 0 ? JSON.parse(text || "{}") : parse(text);
    } catch {
      continue; // a file cut short by a crash: what it held cannot be read, so it cannot be known
    }
    collect(doc, i === 0, out);
  }
  return out;
}

/** Strings under the key fields (every string of keys.json), and what the URL fields carry. */
function collect(v: unknown, all: boolean, out: string[]): void {
  if (typeof v === "string") {
    if (all) out.push(v);
  } else if (Array.isArray(v)) {
    for (const x of v) collect(x, all, out);
  } else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === "string" && URL_FIELDS.has(k)) out.push(...urlSecrets(x));
      else collect(x, all || KEY_FIELDS.has(k), out);
    }
  }
}

const readOr = (file: string): string => readSmallText(file) ?? "";
