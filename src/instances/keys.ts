// Each managed instance gets a private API key, generated once and kept in .gw/keys.json
// (mode 0600) so it survives restarts: CLIProxyAPI with empty api-keys would accept anyone.
import { join } from "node:path";
import type { Config } from "../config/types.ts";
import { writePrivateFile } from "../fs/atomic-write.ts";
import { readSmallText } from "../fs/read-small.ts";
import { writeError } from "../fs/why.ts";

export const keysFile = (config: Config) => join(config.dir, ".gw", "keys.json");

function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `gw-${Buffer.from(bytes).toString("base64url")}`;
}

/**
 * Instance name → key. A Map, and only own string values are taken from the file: an instance
 * named `constructor` or `__proto__` must get a key of its own, not something inherited.
 */
function readKeys(file: string): Map<string, string> {
  const keys = new Map<string, string>();
  const text = readSmallText(file); // a FIFO planted here is no file of keys: new ones replace it
  if (text === undefined) return keys;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object") {
      for (const [name, key] of Object.entries(parsed)) if (typeof key === "string" && key) keys.set(name, key);
    }
  } catch {
    // a corrupt file only costs new keys; the YAML is rewritten with them
  }
  return keys;
}

/** The config with every managed instance's `apiKey` filled in; new keys are persisted first. */
export async function withInstanceKeys(config: Config): Promise<Config> {
  const file = keysFile(config);
  const keys = readKeys(file);
  let changed = false;
  for (const inst of config.instances) {
    if (!inst.managed || keys.has(inst.name)) continue;
    keys.set(inst.name, newKey());
    changed = true;
  }
  if (changed) await writePrivateFile(file, `${JSON.stringify(Object.fromEntries(keys), null, 2)}\n`).catch((err) => {
    throw writeError(err, file, "let this user write in the .gw directory");
  });
  return keyed(config, keys);
}

/** The same with the keys already saved only, writing nothing (what read-only commands mask). */
export async function withSavedInstanceKeys(config: Config): Promise<Config> {
  return keyed(config, readKeys(keysFile(config)));
}

function keyed(config: Config, keys: ReadonlyMap<string, string>): Config {
  const instances = config.instances.map((i) => (i.managed ? Object.freeze({ ...i, apiKey: keys.get(i.name) ?? "" }) : i));
  return Object.freeze({ ...config, instances: Object.freeze(instances) });
}
