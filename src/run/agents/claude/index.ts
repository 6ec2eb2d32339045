// Claude Code (npm @anthropic-ai/claude-code): what `cld cp` has always launched, and `gw run
// claude` the same way. Three routes by role (choose.ts: scenarios, FILTER, memory), Claude Code's
// variables for the gateway (env.ts), its config dir made ready for a first launch (home.ts), and
// a hand-over that keeps the resume hint on the gateway (hand-over.ts).
import { YOLO_FLAG } from "../../../cld/args.ts";
import { CLAUDE_INSTALL } from "../../../cld/launch.ts";
import type { Agent } from "../types.ts";
import { type ClaudeRoles, ELSEWHERE, gatewayEnv } from "./env.ts";
import { claudeOneShot, handOverToClaude } from "./hand-over.ts";
import { prepareHome } from "./home.ts";
import { claudeHonoursNoProxy } from "./no-proxy.ts";

export const claude: Agent = {
  name: "claude",
  summary: "Claude Code through the gateway (as cld cp: main, fast and opus routes by scenario)",
  command: "claude",
  label: "Claude Code",
  install: CLAUDE_INSTALL,
  // cld cp's directory since the old launcher: existing sessions and remembered picks stay.
  home: "cp",
  title: "cld cp",
  families: "any",
  yolo: [YOLO_FLAG],
  oneShot: claudeOneShot,
  // A stale token would override the key (gatewayEnv sets its own); a cloud switch would go past the gateway.
  blank: ELSEWHERE,
  honoursNoProxy: claudeHonoursNoProxy,
  // Loaded when it runs: the registry (completions, gw run codex) stays light.
  choose: async (c) => (await import("./choose.ts")).chooseRoles(c),
  async prepare(l) {
    // The key older cld versions sent as ANTHROPIC_API_KEY may have been refused at Claude Code's prompt.
    await prepareHome(l.home, l.env, { unrejectKeys: [l.gateway.apiKey] });
    const role = (name: keyof ClaudeRoles) => l.roles?.[name] ?? l.route.name;
    const roles: ClaudeRoles = { main: role("main"), fast: role("fast"), opus: role("opus") };
    return { env: gatewayEnv({ baseUrl: l.gateway.baseUrl, key: l.gateway.apiKey, roles, contextWindow: l.route.window, configDir: l.home }) };
  },
  handOver: (command, args, env) => handOverToClaude(command, args, env, "the gateway"),
};
