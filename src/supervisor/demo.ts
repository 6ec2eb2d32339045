// The embedded demo: what `gw up` runs when no providers.toml is found. Two `gw mock`
// instances (this binary re-running itself) and a few routes, in a cache directory so a
// fresh clone stays clean; the user talks to it exactly as to a real gateway.
import { homedir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { installHint, selfCommand, selfDisplay } from "./self.ts";

export const DEMO_MAIN_PORT = 8145;

type Env = Record<string, string | undefined>;

/** Where the demo keeps its config, instance YAML, logs and control socket. */
export const demoDir = (env: Env) => join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "gw", "demo");
export const demoFile = (env: Env) => join(demoDir(env), "demo.toml");

function demoToml(mainPort: number, ports: readonly [number, number]): string {
  const command = `[${selfCommand("mock", "-config", "{config}").map((a) => JSON.stringify(a)).join(", ")}]`;
  return `# gw demo — written by "gw up" because no providers.toml was found.
# Two mock instances stand in for CLIProxyAPI: no accounts, no traffic leaves this machine.
[global]
host = "127.0.0.1"
main_port = ${mainPort}
shutdown_grace_ms = 5000

[instances.alpha]
port = ${ports[0]}
command = ${command}
providers = [{ type = "antigravity" }]

[instances.beta]
port = ${ports[1]}
command = ${command}
providers = [{ type = "anthropic", base_url = "https://relay.invalid", api_keys = ["demo-key"] }]

[routing]
"opus4.6" = [
  { instance = "alpha", provider = "antigravity", model = "claude-opus-4-6-thinking", weight = 80 },
  { instance = "beta", provider = "anthropic", model = "anthropic/claude-opus-4.6", weight = 20 },
]
"g3f" = [{ instance = "alpha", provider = "antigravity", model = "gemini-3-flash" }]
"g3f.auto" = [{ instance = "alpha", provider = "antigravity", model = "gemini-3-flash" }]
"g3p" = [{ instance = "alpha", provider = "antigravity", model = "gemini-3-pro-high" }]
`;
}

/** Write the demo config (instances on free ports; `--port 0`: the LB too) and return its path. */
export async function writeDemoConfig(env: Env, mainPort = DEMO_MAIN_PORT): Promise<string> {
  const file = demoFile(env);
  // ports.ts brings node:net (~7 ms): loaded by the one command that writes the demo, not by
  // every command that only asks where the demo's files are (status, logs, check)
  const { freePort } = await import("./ports.ts");
  const ports: [number, number] = [await freePort(), await freePort()];
  // main_port is written into demo.toml, where 0 is no port: the file must name the one it serves on.
  await writeFileAtomic(file, demoToml(mainPort || (await freePort()), ports));
  return file;
}

/** How to talk to the running demo, and how to leave it for a real config. */
export function demoBanner(url: string, file: string): string {
  const install = installHint();
  return [
    "",
    "This is the built-in demo: two mock instances (alpha, beta) behind the load balancer.",
    "Try it:",
    `  curl -s ${url}/v1/messages -H 'content-type: application/json' -d '{"model":"opus4.6","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}'`,
    `  ${selfDisplay()} cld cp -c ${file} opus     # Claude Code through the demo`,
    "Run your real setup instead:",
    `  ${selfDisplay()} init   # writes providers.toml and .env here to describe your instances and routes; then: ${selfDisplay()} up`,
    ...(install ? [`  ${install}`] : []),
  ].join("\n");
}
