// Keys of the later old generator that CLIProxyAPI acts on: [global] request_log and
// logs_max_total_size_mb become the instance YAML's request-log and logs-max-total-size-mb
// (an instance may override them, like every other CLIProxyAPI setting); unset, nothing is written.
import { expect, test } from "bun:test";
import { parse } from "yaml";
import { parseConfig } from "../../src/config/index.ts";
import { instanceYaml } from "../../src/instances/index.ts";

const toml = (global: string, instance = "") => `[global]
main_port = 8145
host = "127.0.0.1"
${global}
[instances.a]
port = 8146
providers = [{ type = "antigravity" }]
[instances.b]
port = 8147
providers = [{ type = "codex" }]
${instance}
`;

const yamls = (text: string) => {
  const { config, problems } = parseConfig(text, "/srv/gw/providers.toml");
  expect(problems.filter((p) => p.severity === "error")).toEqual([]);
  return config!.instances.map((i) => parse(instanceYaml(config!, i)) as Record<string, unknown>);
};

test("written from [global] in the old spellings, overridden per instance", () => {
  const [a, b] = yamls(toml(`request_log = "yes"\nlogs-max-total-size-mb = "512"`, `request_log = false`));
  expect(a).toMatchObject({ "request-log": true, "logs-max-total-size-mb": 512 });
  expect(b).toMatchObject({ "request-log": false, "logs-max-total-size-mb": 512 });
});

test("left out when unset (CLIProxyAPI's own defaults apply)", () => {
  const [a] = yamls(toml(""));
  expect(a).not.toHaveProperty("request-log");
  expect(a).not.toHaveProperty("logs-max-total-size-mb");
});
