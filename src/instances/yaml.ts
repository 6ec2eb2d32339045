// Config → one CLIProxyAPI config YAML (pure). The old generator's mapping plus what gw needs
// to keep instances private: loopback bind, the instance's port, its auth dir, a generated key.
import { stringify } from "yaml";
import type { Config, InstanceConfig, ProviderType } from "../config/types.ts";

type Yaml = Record<string, unknown>;
type ModelAlias = { name: string; alias: string };

/** Every distinct upstream model a route sends to this instance and provider type, in route order. */
export function modelsFor(config: Config, instance: string, type: ProviderType): ModelAlias[] {
  const names = new Set<string>();
  for (const route of config.routes.values())
    for (const t of route.targets) if (t.instance === instance && t.provider === type) names.add(t.model);
  return [...names].map((m) => ({ name: m, alias: m }));
}

/** Key order is fixed so the same config always gives the same bytes. */
export function instanceYaml(config: Config, inst: InstanceConfig): string {
  const y: Yaml = {
    host: "127.0.0.1",
    port: inst.port,
    "auth-dir": inst.authDir,
    "api-keys": inst.apiKey ? [inst.apiKey] : [],
  };
  if (inst.proxy) y["proxy-url"] = inst.proxy;
  y["request-retry"] = inst.requestRetry;
  y["max-retry-interval"] = inst.maxRetryInterval;
  if (inst.routingStrategy) y.routing = { strategy: inst.routingStrategy };
  if (inst.disableCooling !== undefined) y["disable-cooling"] = inst.disableCooling;
  if (inst.nonstreamKeepaliveInterval !== undefined) y["nonstream-keepalive-interval"] = inst.nonstreamKeepaliveInterval;
  if (inst.requestLog !== undefined) y["request-log"] = inst.requestLog;
  if (inst.logsMaxTotalSizeMb !== undefined) y["logs-max-total-size-mb"] = inst.logsMaxTotalSizeMb;
  const streaming = dashed({ "keepalive-seconds": inst.streaming.keepaliveSeconds, "bootstrap-retries": inst.streaming.bootstrapRetries });
  if (streaming) y.streaming = streaming;
  const quota = dashed({ "switch-project": inst.quotaExceeded.switchProject, "switch-preview-model": inst.quotaExceeded.switchPreviewModel });
  if (quota) y["quota-exceeded"] = quota;

  const claude: Yaml[] = [];
  const vertex: Yaml[] = [];
  const openai: Yaml[] = [];
  for (const p of inst.providers) {
    const models = modelsFor(config, inst.name, p.type);
    const withBase = (key: string): Yaml => ({ "api-key": key, ...(p.baseUrl ? { "base-url": p.baseUrl } : {}), models });
    if (p.type === "anthropic" || p.type === "minimax") claude.push(...p.apiKeys.map(withBase));
    else if (p.type === "gemini") vertex.push(...p.apiKeys.map(withBase));
    else if (p.type === "openai")
      openai.push({
        name: `${inst.name}-openai-${p.index}`,
        "base-url": p.baseUrl,
        "api-key-entries": p.apiKeys.map((k) => ({ "api-key": k })),
        models,
      });
    // OAuth types (antigravity, codex, claude, …) write nothing: credentials live in auth-dir.
  }
  if (claude.length) y["claude-api-key"] = claude;
  if (vertex.length) y["vertex-api-key"] = vertex;
  if (openai.length) y["openai-compatibility"] = openai;
  return `# Written by gw from ${config.file} — edit that file, not this one.\n${stringify(y, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

function dashed(o: Record<string, unknown>): Yaml | undefined {
  const entries = Object.entries(o).filter(([, v]) => v !== undefined);
  return entries.length ? Object.fromEntries(entries) : undefined;
}
