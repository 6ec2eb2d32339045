// `gw lb` (the replica command: no instances of its own) shows on its status page and /metrics what
// it keeps out — the cooldowns its store holds — as `gw up` does: each host's page is that host's.
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { externalInstances } from "../helpers/lb.ts";
import { type MockServer, startMock } from "../helpers/mock.ts";
import { freePorts } from "../helpers/ports.ts";
import { type GatewayProcess, spawnGateway } from "../helpers/resilience.ts";
import { tempDir } from "../helpers/tmp.ts";
import { until } from "../helpers/supervisor.ts";

let mock: MockServer | undefined;
let gw: GatewayProcess | undefined;
afterAll(async () => {
  await gw?.stop();
  mock?.stop();
});

test("gw lb's status page and /metrics show the target a 429 put in cooldown", async () => {
  mock = startMock({ name: "a" });
  const [port] = await freePorts(1);
  const file = join(tempDir("gw-lb-live-"), "providers.toml");
  writeFileSync(
    file,
    `[global]\nhost = "127.0.0.1"\nmain_port = ${port}\nstate = "memory"\n${externalInstances({ a: mock.url })}\n[routing]\n"cool" = [{ instance = "a", provider = "anthropic", model = "claude-x~429", priority = 1 }, { instance = "a", provider = "anthropic", model = "claude-y" }]\n`,
  );
  gw = await spawnGateway(file);
  const res = await fetch(`${gw.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ model: "cool", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }),
  });
  expect([res.status, res.headers.get("x-gw-attempts")]).toEqual([200, "2"]);
  await res.arrayBuffer();

  type Status = { totals: { cooling: number }; routes: { name: string; targets: { id: string; cooling: { kind: string } | null }[] }[] };
  const status = async () => (await (await fetch(`${gw!.url}/_gw/api/status`)).json()) as Status;
  await until(async () => (await status()).totals.cooling === 1, 10_000, () => "the cooldown on the status API");
  const cool = (await status()).routes.find((r) => r.name === "cool")!;
  expect(cool.targets.map((t) => [t.id, t.cooling?.kind ?? null])).toEqual([
    ["a/claude-x~429", "transient_heavy"],
    ["a/claude-y", null],
  ]);
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  expect(metrics).toMatch(/^gw_cooldowns_active\{route="cool",target="a\/claude-x~429"[^}]*\} 1$/m);
}, 30_000);
