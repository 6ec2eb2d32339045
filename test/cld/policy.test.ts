import { describe, expect, test } from "bun:test";
import { agEnv, officialEnv } from "../../src/cld/env.ts";
import { claude } from "../../src/run/agents/claude/index.ts";
import { gatewayEnv } from "../../src/run/agents/claude/env.ts";
import { agentEnv } from "../../src/run/launch.ts";
import { autoRouteFor, BUILTIN_ROUTES, DEFAULT_SCENARIOS, matchRoute, rememberedRoles, rolesForMatch, usableScenarios } from "../../src/cld/scenarios.ts";

describe("scenarios", () => {
  const routes = ["opus4.6", "g3p", "g3f", "g3f.auto", "Kimi-K2"];

  test("FILTER picks the first route containing it, ignoring case; an exact name wins", () => {
    expect(matchRoute(routes, "opus")).toBe("opus4.6");
    expect(matchRoute(routes, "KIMI")).toBe("Kimi-K2");
    expect(matchRoute(routes, "g3")).toBe("g3p");
    expect(matchRoute(routes, "g3f")).toBe("g3f");
    expect(matchRoute(routes, "nope")).toBeUndefined();
  });

  test("fast start: the match is main; fast and opus remembered, else from a scenario, else the cheapest route", () => {
    // pricing the routes evaluates the catalogue (~20 ms of every cld cp FILTER): asked only when used
    const asked: string[] = [];
    const d = { routes, scenarios: usableScenarios(DEFAULT_SCENARIOS, routes), cheapest: () => (asked.push("cheapest"), "g3f") };
    expect(rolesForMatch("g3f", { fast: "g3p", opus: "opus4.6" }, d)).toEqual({ roles: { main: "g3f", fast: "g3p", opus: "opus4.6" }, from: { fast: "remembered", opus: "remembered" } });
    // Nothing remembered: the scenario whose main is the match (Performance for opus4.6)…
    expect(rolesForMatch("opus4.6", {}, d)).toEqual({ roles: { main: "opus4.6", fast: "g3f", opus: "opus4.6" }, from: { fast: "scenario Performance", opus: "scenario Performance" } });
    // …else the first scenario; a remembered route that is gone counts as nothing remembered.
    expect(rolesForMatch("Kimi-K2", { fast: "gone", opus: "g3p" }, d)).toEqual({ roles: { main: "Kimi-K2", fast: "g3f", opus: "g3p" }, from: { fast: "scenario Performance", opus: "remembered" } });
    expect(asked).toEqual([]);
    // No usable scenario: fast is the cheapest route, opus the match.
    expect(rolesForMatch("opus4.6", {}, { routes, scenarios: {}, cheapest: () => "g3f" })).toEqual({ roles: { main: "opus4.6", fast: "g3f", opus: "opus4.6" }, from: { fast: "cheapest route", opus: "main" } });
    expect(rolesForMatch("g3p", {}, { routes, scenarios: {} })).toMatchObject({ roles: { main: "g3p", fast: "g3p", opus: "g3p" } });
  });

  test("only scenarios whose three routes exist are offered", () => {
    expect(Object.keys(usableScenarios(DEFAULT_SCENARIOS, ["opus4.6", "g3f"]))).toEqual(["Performance", "Balanced"]);
    expect(usableScenarios(DEFAULT_SCENARIOS, ["x"])).toEqual({});
  });

  test("the auto-upgrade twin exists only when the route list has it", () => {
    expect(autoRouteFor("g3f", routes)).toBe("g3f.auto");
    expect(autoRouteFor("g3p", routes)).toBeUndefined();
    expect(autoRouteFor("g3f.auto", routes)).toBeUndefined();
    expect(autoRouteFor("g3p", BUILTIN_ROUTES)).toBe("g3p.auto");
  });

  test("remembered roles only when all three are known and are routes of this config", () => {
    const routes = ["a", "b", "c"];
    expect(rememberedRoles({ main: "a", fast: "b" }, routes)).toBeUndefined();
    expect(rememberedRoles({ main: "a", fast: "b", opus: "c" }, routes)).toEqual({ main: "a", fast: "b", opus: "c" });
    expect(rememberedRoles({ main: "a", fast: "gone", opus: "c" }, routes)).toBeUndefined(); // memory of another config
  });
});

describe("child environment", () => {
  const user = { PATH: "/bin", HTTP_PROXY: "http://p:1", https_proxy: "http://p:2", ALL_PROXY: "socks5://p", ANTHROPIC_AUTH_TOKEN: "stale", ANTHROPIC_API_KEY: "mine", KEEP: "1" };
  const proxies = { HTTP_PROXY: "http://p:1", https_proxy: "http://p:2", ALL_PROXY: "socks5://p" };
  /** What a Claude Code on loopback gets beside the user's proxies (it honours NO_PROXY). */
  const direct = { NO_PROXY: "127.0.0.1,localhost,::1", no_proxy: "127.0.0.1,localhost,::1" };
  /** The claude agent, installed in a build that honours NO_PROXY (which one does: proxies.test.ts). */
  const honouring = { ...claude, honoursNoProxy: () => true };

  test("cp: gateway, key as Bearer, every model tier a route, the window, discovery, its own config dir", () => {
    const stray = { CLAUDE_CODE_AUTO_MODE_MODEL: "claude-sonnet-5", ANTHROPIC_CUSTOM_MODEL_OPTION: "claude-x", ANTHROPIC_SMALL_FAST_MODEL: "claude-haiku-4-5" };
    const launch = { baseUrl: "http://127.0.0.1:9", key: "k", roles: { main: "m", fast: "f", opus: "o" }, contextWindow: 131072, configDir: "/c/cp" };
    const env = agentEnv(honouring, { ...user, ...stray }, gatewayEnv(launch), launch.baseUrl);
    expect(env).toMatchObject({
      ...proxies, ...direct, KEEP: "1", PATH: "/bin",
      ANTHROPIC_BASE_URL: "http://127.0.0.1:9", ANTHROPIC_AUTH_TOKEN: "k", ANTHROPIC_API_KEY: "",
      ANTHROPIC_MODEL: "m", ANTHROPIC_DEFAULT_MODEL: "m", ANTHROPIC_DEFAULT_SONNET_MODEL: "m",
      ANTHROPIC_DEFAULT_OPUS_MODEL: "o", ANTHROPIC_DEFAULT_FABLE_MODEL: "o",
      ANTHROPIC_DEFAULT_HAIKU_MODEL: "f", ANTHROPIC_SMALL_FAST_MODEL: "f", CLAUDE_CODE_SUBAGENT_MODEL: "f",
      ANTHROPIC_DEFAULT_OPUS_MODEL_NAME: "o", ANTHROPIC_DEFAULT_HAIKU_MODEL_DESCRIPTION: "gw fast route (Haiku tier)", ANTHROPIC_DEFAULT_FABLE_MODEL_DESCRIPTION: "gw opus route (Fable tier)",
      CLAUDE_CODE_AUTO_MODE_MODEL: "", ANTHROPIC_CUSTOM_MODEL_OPTION: "",
      CLAUDE_CODE_MAX_CONTEXT_TOKENS: "131072", CLAUDE_CODE_DISABLE_1M_CONTEXT: "1",
      CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY: "1", CLAUDE_CONFIG_DIR: "/c/cp",
    });
  });

  test("a gateway elsewhere: the user's proxies stay (the way out of their network), a CA trusted by $SSL_CERT_FILE reaches Node as $NODE_EXTRA_CA_CERTS", () => {
    const launch = { baseUrl: "https://gw.example.com/gw", key: "k", roles: { main: "m", fast: "f", opus: "o" }, contextWindow: 1, configDir: "/c/cp" };
    const env = agentEnv(honouring, { ...user, SSL_CERT_FILE: "/etc/team-ca.pem" }, gatewayEnv(launch), launch.baseUrl);
    expect(env).toMatchObject({ HTTP_PROXY: "http://p:1", https_proxy: "http://p:2", ALL_PROXY: "socks5://p", ANTHROPIC_AUTH_TOKEN: "k", NODE_EXTRA_CA_CERTS: "/etc/team-ca.pem" });
    // The user's own NODE_EXTRA_CA_CERTS wins; a plain-http gateway on this machine gets neither.
    expect(agentEnv(honouring, { ...user, SSL_CERT_FILE: "/a.pem", NODE_EXTRA_CA_CERTS: "/b.pem" }, {}, launch.baseUrl).NODE_EXTRA_CA_CERTS).toBe("/b.pem");
    const local = agentEnv(honouring, { ...user, SSL_CERT_FILE: "/a.pem" }, {}, "http://127.0.0.1:8145");
    expect([local, "NODE_EXTRA_CA_CERTS" in local]).toMatchObject([{ ...proxies, ...direct }, false]);
  });

  test("ag: defaults, and the CLD_AG_* / ANTI_API_BASE overrides", () => {
    // Claude Code adds /v1/messages: the documented base's /v1 would double it.
    expect(agEnv(user, "tok", "/c/ag", () => true)).toMatchObject({
      ...proxies, ...direct, ANTHROPIC_AUTH_TOKEN: "", ANTHROPIC_BASE_URL: "http://127.0.0.1:8045", ANTHROPIC_API_KEY: "tok",
      ANTHROPIC_MODEL: "claude-opus-4-6-thinking", ANTHROPIC_DEFAULT_SONNET_MODEL: "claude-opus-4-6-thinking",
      ANTHROPIC_DEFAULT_OPUS_MODEL: "gemini-3-pro-high", ANTHROPIC_DEFAULT_HAIKU_MODEL: "gemini-3-flash",
      CLAUDE_CODE_SUBAGENT_MODEL: "gemini-3-flash", CLAUDE_CONFIG_DIR: "/c/ag",
    });
    const over = agEnv({ ...user, ANTI_API_BASE: "http://127.0.0.1:1", CLD_AG_CODE_MODEL: "c", CLD_AG_DOC_MODEL: "d", CLD_AG_FAST_MODEL: "f" }, "t", "/x", () => true);
    expect(over).toMatchObject({ ANTHROPIC_BASE_URL: "http://127.0.0.1:1", ANTHROPIC_MODEL: "c", ANTHROPIC_DEFAULT_OPUS_MODEL: "d", ANTHROPIC_DEFAULT_HAIKU_MODEL: "f" });
    for (const written of ["http://127.0.0.1:1/v1", "http://127.0.0.1:1/v1/", "http://127.0.0.1:1/"]) expect(agEnv({ ...user, ANTI_API_BASE: written }, "t", "/x", () => true).ANTHROPIC_BASE_URL).toBe("http://127.0.0.1:1");
    expect(agEnv({ ...user, ANTI_API_BASE: "https://proxy.example/ag/v1" }, "t", "/x", () => true).ANTHROPIC_BASE_URL).toBe("https://proxy.example/ag");
  });

  test("cp and ag: the user's cloud switches (Bedrock, Vertex, Foundry, …) are emptied, which would send Claude Code past the gateway; official keeps them", () => {
    const clouds = { CLAUDE_CODE_USE_BEDROCK: "1", CLAUDE_CODE_USE_VERTEX: "1", CLAUDE_CODE_USE_FOUNDRY: "1", CLAUDE_CODE_USE_ANTHROPIC_AWS: "1", CLAUDE_CODE_USE_ANTHROPIC_GOOGLE_CLOUD: "1", CLAUDE_CODE_USE_MANTLE: "1", CLAUDE_CODE_USE_GATEWAY: "1" };
    const emptied = Object.fromEntries(Object.keys(clouds).map((k) => [k, ""]));
    const launch = { baseUrl: "http://127.0.0.1:9", key: "k", roles: { main: "m", fast: "f", opus: "o" }, contextWindow: 1, configDir: "/c/cp" };
    expect(agentEnv(honouring, { ...user, ...clouds }, gatewayEnv(launch), launch.baseUrl)).toMatchObject(emptied);
    expect(agEnv({ ...user, ...clouds }, "t", "/x", () => true)).toMatchObject(emptied);
    expect(officialEnv({ ...user, ...clouds }, () => true)).toMatchObject(clouds);
  });

  test("official: nothing injected, the user's own key and proxies untouched (the way out to Anthropic), a stale auth token blanked", () => {
    // Whether this Claude Code honours NO_PROXY does not matter: nothing goes to loopback.
    for (const noProxy of [true, false]) expect(officialEnv(user, () => noProxy)).toEqual({ ...user, ANTHROPIC_AUTH_TOKEN: "" });
    const env = officialEnv(user, () => true);
    expect(env.ANTHROPIC_API_KEY).toBe("mine");
    expect("ANTHROPIC_BASE_URL" in env).toBe(false);
  });
});
