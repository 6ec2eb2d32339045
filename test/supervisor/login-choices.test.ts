// `gw login NAME` without a provider, or with one the instance cannot log in to, says what that
// instance can log in to — or, for an instance of API keys alone, where its keys go — and never
// offers logins the instance lacks. Real gw processes on a real config; no login starts.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { freePorts } from "../helpers/ports.ts";
import { runGw, tempFiles } from "../helpers/tmp.ts";

const [main, official, relay] = await freePorts(3);
const dir = tempFiles({
  "providers.toml": `[global]
main_port = ${main}
[instances.official]
port = ${official}
providers = [{ type = "antigravity" }, { type = "codex" }]
[instances.relay]
port = ${relay}
providers = [{ type = "anthropic", base_url = "https://relay.example.com", api_keys = ["sk-relay-real"] }]
[routing]
"m" = [{ instance = "official", provider = "antigravity", model = "x" }]
`,
});
const file = join(dir, "providers.toml");
const login = (...args: string[]) => runGw(["login", ...args, "-c", file], { cwd: dir });

test("gw login official: its own logins, and only them", async () => {
  const r = await login("official");
  expect([r.code, r.stdout]).toEqual([1, ""]);
  expect(r.stderr).toBe("gw: name the provider to log in to for instance 'official'\n  log in to what it has: gw login official antigravity · gw login official codex · gw login official codex-device\n");
});

test("gw login relay, with no provider or with its API-key provider: it uses keys, and where they go", async () => {
  const hint = "  [instances.relay] uses API keys only, no login: put them in its providers' api_keys in providers.toml (a ${VAR} there is read from the .env beside it)\n";
  const bare = await login("relay");
  expect([bare.code, bare.stderr]).toEqual([1, `gw: instance 'relay' has no OAuth provider to log in to\n${hint}`]);
  const anthropic = await login("relay", "anthropic");
  expect([anthropic.code, anthropic.stderr]).toEqual([1, `gw: anthropic takes API keys, not a login\n${hint}`]);
  const claude = await login("relay", "claude");
  expect([claude.code, claude.stderr]).toEqual([1, `gw: instance 'relay' has no claude provider, so a claude login would go unused\n  add { type = "claude" } to [instances.relay] providers first\n`]);
});
