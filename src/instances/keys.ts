// Each managed instance gets a private API key, generated once and kept in .gw/keys.json
// (mode 0600) so it survives restarts: CLIProxyAPI with empty api-keys would accept anyone.
import { join } from "node:path";
import type { Config } from "../config/types.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";

export const keysFile = (config: Config) => join(config.dir, ".gw", "keys.json");

function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `gw-${Buffer.from(bytes).toString("base64url")}`;
}

async function readKeys(file: string): Promise<Record<string, string>> {
  const f = Bun.file(file);
  if (!(await f.exists())) return {};
  try {
    const parsed: unknown = JSON.parse(await f.text());
    return parsed && typeof parsed === "object" ? (parsed as Record<string, string>) : {};
  } catch {
    return {}; // a corrupt file only costs new keys; the YAML is rewritten with them
  }
}

/** The config with every managed instance's `apiKey` filled in; new keys are persisted first. */
export async function withInstanceKeys(config: Config): Promise<Config> {
  const file = keysFile(config);
  const keys = await readKeys(file);
  let changed = false;
  for (const inst of config.instances) {
    if (!inst.managed || keys[inst.name]) continue;
    keys[inst.name] = newKey();
    changed = true;
  }
  if (changed) await writeFileAtomic(file, `${JSON.stringify(keys, null, 2)}\n`, 0o600);
  const instances = config.instances.map((i) => (i.managed ? Object.freeze({ ...i, apiKey: keys[i.name]! }) : i));
  return Object.freeze({ ...config, instances: Object.freeze(instances) });
}
