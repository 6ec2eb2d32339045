import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Config, InstanceConfig } from "../config/types.ts";
import { writePrivateFile } from "../fs/atomic-write.ts";
import { instanceYaml } from "./yaml.ts";

export const instanceYamlPath = (config: Config, inst: InstanceConfig) => join(config.dir, "instances", `${inst.name}.yaml`);

/**
 * Write instances/NAME.yaml for every instance gw starts; returns the paths written.
 * All YAML is rendered and every auth dir made before the first write (an auth dir that cannot
 * be made must not leave the instances before it on new files), and each write is atomic, so a
 * failure leaves every file either as it was or wholly new. Unchanged files are not touched (no
 * needless reloads in CLIProxyAPI's watcher).
 */
export async function writeInstanceFiles(config: Config): Promise<string[]> {
  const rendered = config.instances.filter((i) => i.managed).map((i) => ({ inst: i, path: instanceYamlPath(config, i), text: instanceYaml(config, i) }));
  for (const { inst } of rendered) await mkdir(inst.authDir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  for (const { path, text } of rendered) {
    const old = Bun.file(path);
    if ((await old.exists()) && (await old.text()) === text) continue;
    await writePrivateFile(path, text);
    written.push(path);
  }
  return written;
}
