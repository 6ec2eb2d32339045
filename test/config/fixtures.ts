// An old-format providers.toml that uses every old key, in the old spellings (dashes, string
// booleans and integers, the [global.streaming] / [global.quota_exceeded] tables).
export const EVERY_OLD_KEY = `
[global]
host = "0.0.0.0"
main_port = "8145"
proxy = "http://proxy.local:3128"
request_retry = 3
max-retry-interval = "30"
routing_strategy = "fill-first"
disable_cooling = "no"
nonstream_keepalive_interval = 10
streaming_keepalive_seconds = 20
streaming_bootstrap_retries = 2
quota_switch_project = "yes"
quota_switch_preview_model = "off"
lb_auth_cooldown_ms = 1000
lb_validation_cooldown_ms = 2000
lb_quota_cooldown_ms = 3000
lb_transient_cooldown_ms = 4000
lb_transient_heavy_cooldown_ms = 5000
lb_signature_cooldown_ms = 6000
lb_max_target_retries = 2
lb_retry_auth_on_5xx = "0"
lb_auto_upgrade_enabled = "on"
lb_auto_upgrade_messages_threshold = 50
lb_auto_upgrade_tools_threshold = "12"
lb_auto_upgrade_failure_streak_threshold = 3
lb_auto_upgrade_signature_enabled = false

[global.streaming]
keepalive-seconds = 99
bootstrap_retries = 98

[global.quota_exceeded]
switch_project = false

[global.lb_auto_upgrade_map]
"g3f.auto" = "opus4.6"

[instances.official]
port = 8146
request_retry = 5
providers = [{ type = "antigravity", rotation_strategy = "round-robin" }, { type = "codex" }, { type = "claude" }]

[instances.official.streaming]
keepalive_seconds = 7

[instances.relay]
port = 8147
max_retry_interval = 60
streaming-keepalive-seconds = 11
providers = [
  { type = "anthropic", base_url = "https://relay.example.com", api_keys = ["\${RELAY_KEY}", "sk-second-key"] },
  { type = "openai", base_url = "https://or.example.com/api/v1", api_keys = ["sk-or-1"] },
  { type = "gemini", base_url = "https://gem.example.com", api_keys = ["g-key"] },
  { type = "minimax", base_url = "https://mm.example.com/anthropic", api_keys = ["mm-key"] },
]

[routing]
"opus4.6" = [
  { instance = "official", provider = "antigravity", model = "claude-opus-4-6-thinking", weight = 80 },
  { instance = "relay", provider = "anthropic", model = "anthropic/claude-opus-4.6", weight = 20,
    params = { max_tokens_max = 24000, anthropic_beta = "context-1m-2025-08-07, Foo-Beta", extra_headers = { "X-Team" = "core" } } },
]
"g3f" = [ { instance = "official", provider = "antigravity", model = "gemini-3-flash" } ]
"g3f.auto" = [ { instance = "official", provider = "antigravity", model = "gemini-3-flash" } ]
"g3p" = [
  { instance = "relay", provider = "openai", model = "google/gemini-3-pro-preview",
    params = { reasoning_effort = "high", thinking_budget_max = 24576, max_tokens_default = 8000, thinking_level = "high" } },
  { instance = "relay", provider = "gemini", model = "gemini-3-pro" },
]
"mm" = [ { instance = "relay", provider = "minimax", model = "MiniMax-M2" } ]
"gpt" = [ { instance = "official", provider = "codex", model = "gpt-5.1-codex" }, { instance = "relay", provider = "openai", model = "openai/gpt-5.1" } ]
`;
