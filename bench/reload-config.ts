// The big providers.toml bench/reload.ts reloads: a power user's setup generated the way such
// files are (many models × providers, weights, params, `.auto` routes, the upgrade map, router
// rules). Every instance is a relay on `url` (one raw upstream answers for all), so `gw lb` serves
// it without starting 40 CLIProxyAPI processes; half are written with a port, as started ones are.

/** Upstream names as relays spell them; with the prefixes below, ~70 distinct names in all. */
const UPSTREAM = ["claude-opus-4-6", "claude-sonnet-4-5", "claude-haiku-4-5", "gpt-5", "gpt-5-mini", "gpt-5-codex", "gemini-3-pro-preview", "gemini-3-flash", "gemini-2.5-pro", "grok-4", "kimi-k2", "glm-4.6", "qwen3-coder", "deepseek-v3.2", "mistral-large", "llama-4-maverick", "o4-mini", "o3", "minimax-m2", "my-finetune-7b"];
const PREFIX = ["", "anthropic/", "openrouter/", "vendor/"];

/**
 * `instances` instances, `routes` routes ("bench" to the upstream among them). `up`: the started
 * instances get these free ports and `cliproxy` (a `gw mock` wrapper), so `gw up` can run them.
 */
export function bigConfig(upstreamPort: number, opts: { instances?: number; routes?: number; weight?: number; up?: { cliproxy: string; mainPort: number; ports: readonly number[] } } = {}): string {
  const nInst = opts.instances ?? 40;
  const nRoutes = opts.routes ?? 500;
  const lines: string[] = [
    "[global]",
    'host = "127.0.0.1"',
    `main_port = ${opts.up?.mainPort ?? 8145}`,
    'api_keys = ["${GW_BENCH_CLIENT_KEY}"]',
    "lb_max_target_retries = 2",
    "lb_auto_upgrade_enabled = true",
    ...(opts.up ? [`cliproxy = "${opts.up.cliproxy}"`, "shutdown_grace_ms = 2000"] : []),
    "",
    "[global.lb_auto_upgrade_map]",
  ];
  for (let i = 0; i < Math.min(nRoutes / 20, 25); i++) lines.push(`"r${2 * i}.auto" = "r${2 * i + 2}"`);
  lines.push("", "[global.lb_model_router]", "enabled = true", 'default_model = "r0"', "");
  for (let i = 0; i < 8; i++) {
    lines.push("[[global.lb_model_router.rules]]", `name = "rule${i}"`, `priority = ${100 + i}`, `target_model = "r${2 * i}"`, `when = [{ field = "messages_count", op = ">=", value = ${10 * (i + 1)} }]`, "");
  }
  for (let i = 0; i < nInst; i++) {
    // i0 answers (the raw upstream); the rest are never asked: started ones (a port `gw lb` does
    // not bind; `gw up` starts gw mock there) and remote relays.
    if (i === 0) lines.push("[instances.i0]", `url = "http://127.0.0.1:${upstreamPort}"`, 'api_key = "bench-instance"');
    else if (i % 2) lines.push(`[instances.i${i}]`, `port = ${opts.up?.ports[i] ?? 40000 + i}`);
    else lines.push(`[instances.i${i}]`, `url = "https://relay${i}.example.com"`, `api_key = "\${GW_BENCH_KEY_${i % 4}}"`);
    if (i % 3 === 0) lines.push("request_retry = 1");
    lines.push("providers = [", `  { type = "anthropic", base_url = "https://relay${i}.example.com", api_keys = ["\${GW_BENCH_KEY_${i % 4}}"] },`, `  { type = "openai", base_url = "https://relay${i}.example.com/v1", api_keys = ["\${GW_BENCH_KEY_${(i + 1) % 4}}"] },`, "]", "");
  }
  lines.push("[routing]", `"bench" = [{ instance = "i0", provider = "anthropic", model = "claude-opus-4-6-thinking", weight = ${opts.weight ?? 1} }]`);
  for (let r = 0; r < nRoutes - 1; r++) {
    const name = r < 50 && r % 2 === 1 ? `r${r - 1}.auto` : `r${r}`;
    const targets: string[] = [];
    for (let t = 0; t < 1 + (r % 3); t++) {
      const inst = (r * 7 + t * 13) % nInst;
      const provider = t % 2 ? "openai" : "anthropic";
      const params = r % 4 === 0 ? `, params = { max_tokens_max = ${16000 + t * 1000}, anthropic_beta = "context-1m-2025-08-07" }` : r % 4 === 1 ? ', params = { reasoning_effort = "high" }' : "";
      targets.push(`  { instance = "i${inst}", provider = "${provider}", model = "${PREFIX[(r + t) % PREFIX.length]}${UPSTREAM[(r * 3 + t) % UPSTREAM.length]}", weight = ${1 + ((r + t) % 5)}${params} },`);
    }
    lines.push(`"${name}" = [`, ...targets, "]");
  }
  return `${lines.join("\n")}\n`;
}

/** The environment the config's ${VAR}s need. */
export const BIG_CONFIG_ENV: Record<string, string> = {
  GW_BENCH_CLIENT_KEY: "bench-client",
  ...Object.fromEntries([0, 1, 2, 3].map((i) => [`GW_BENCH_KEY_${i}`, `sk-bench-relay-key-${i}-0123456789abcdef`])),
};
