import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";
import { BUILTIN_ROUTES, DEFAULT_SCENARIOS } from "../../src/cld/scenarios.ts";
import { gatewayOf, sourceOf } from "../../src/cld/source.ts";
import { cldConfig } from "../helpers/cld.ts";

const configWith = (global: string) => {
  const { config, problems } = parseConfig(cldConfig(9100, global).replace(`host = "0.0.0.0"\n`, ""), "/x/providers.toml", {});
  if (!config) throw new Error(problems.map((p) => p.message).join("; "));
  return config;
};

describe("where cp mode sends claude", () => {
  test("no config: the old launcher's address, key and routes", () => {
    expect(sourceOf(null, null, "")).toMatchObject({ routes: BUILTIN_ROUTES, scenarios: DEFAULT_SCENARIOS, gateway: { baseUrl: "http://127.0.0.1:8145", apiKey: "dummy-key" } });
  });

  test("a wildcard host means loopback; the first client key is used", () => {
    expect(gatewayOf(configWith(`host = "0.0.0.0"\napi_keys = ["k1", "k2"]`))).toEqual({ baseUrl: "http://127.0.0.1:9100", apiKey: "k1" });
    expect(gatewayOf(configWith(`host = "::"\napi_keys = ["k1"]`)).baseUrl).toBe("http://127.0.0.1:9100");
  });

  test("a specific host is used as written (IPv6 in brackets)", () => {
    expect(gatewayOf(configWith(`host = "127.0.0.2"`)).baseUrl).toBe("http://127.0.0.2:9100");
    expect(gatewayOf(configWith(`host = "::1"`)).baseUrl).toBe("http://[::1]:9100");
  });

  test("routes in file order from the config", () => {
    expect(sourceOf("/x", configWith(""), "").routes).toEqual(["opus4.6", "g3p", "g3f", "g3f.auto", "kimi-k2"]);
  });
});
