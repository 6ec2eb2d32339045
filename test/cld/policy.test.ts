import { describe, expect, test } from "bun:test";
import { agEnv, cpEnv, officialEnv } from "../../src/cld/env.ts";
import { autoRouteFor, BUILTIN_ROUTES, matchRoute, rememberedRoles, rolesForMatch } from "../../src/cld/scenarios.ts";

describe("scenarios", () => {
  const routes = ["opus4.6", "g3p", "g3f", "g3f.auto", "Kimi-K2"];

  test("FILTER picks the first route containing it, ignoring case; an exact name wins", () => {
    expect(matchRoute(routes, "opus")).toBe("opus4.6");
    expect(matchRoute(routes, "KIMI")).toBe("Kimi-K2");
    expect(matchRoute(routes, "g3")).toBe("g3p");
    expect(matchRoute(routes, "g3f")).toBe("g3f");
    expect(matchRoute(routes, "nope")).toBeUndefined();
  });

  test("fast start: the match is main, the other roles remembered or the match", () => {
    expect(rolesForMatch("g3f", { fast: "g3p", opus: "opus4.6" })).toEqual({ main: "g3f", fast: "g3p", opus: "opus4.6" });
    expect(rolesForMatch("g3f", {})).toEqual({ main: "g3f", fast: "g3f", opus: "g3f" });
  });

  test("the auto-upgrade twin exists only when the route list has it", () => {
    expect(autoRouteFor("g3f", routes)).toBe("g3f.auto");
    expect(autoRouteFor("g3p", routes)).toBeUndefined();
    expect(autoRouteFor("g3f.auto", routes)).toBeUndefined();
    expect(autoRouteFor("g3p", BUILTIN_ROUTES)).toBe("g3p.auto");
  });

  test("remembered roles only when all three are known", () => {
    expect(rememberedRoles({ main: "a", fast: "b" })).toBeUndefined();
    expect(rememberedRoles({ main: "a", fast: "b", opus: "c" })).toEqual({ main: "a", fast: "b", opus: "c" });
  });
});

describe("child environment", () => {
  const user = { PATH: "/bin", HTTP_PROXY: "http://p:1", https_proxy: "http://p:2", ALL_PROXY: "socks5://p", ANTHROPIC_AUTH_TOKEN: "stale", ANTHROPIC_API_KEY: "mine", KEEP: "1" };
  const blanks = { HTTP_PROXY: "", HTTPS_PROXY: "", ALL_PROXY: "", https_proxy: "", ANTHROPIC_AUTH_TOKEN: "" };

  test("cp: gateway, key, the three roles, subagents = fast, its own config dir", () => {
    const env = cpEnv(user, { baseUrl: "http://127.0.0.1:9", apiKey: "k" }, { main: "m", fast: "f", opus: "o" }, "/c/cp");
    expect(env).toMatchObject({
      ...blanks, KEEP: "1", PATH: "/bin",
      ANTHROPIC_BASE_URL: "http://127.0.0.1:9", ANTHROPIC_API_KEY: "k", ANTHROPIC_MODEL: "m",
      ANTHROPIC_DEFAULT_HAIKU_MODEL: "f", CLAUDE_CODE_SUBAGENT_MODEL: "f", ANTHROPIC_DEFAULT_OPUS_MODEL: "o", CLAUDE_CONFIG_DIR: "/c/cp",
    });
  });

  test("ag: defaults, and the CLD_AG_* / ANTI_API_BASE overrides", () => {
    expect(agEnv(user, "tok", "/c/ag")).toMatchObject({
      ...blanks, ANTHROPIC_BASE_URL: "http://127.0.0.1:8045/v1", ANTHROPIC_API_KEY: "tok",
      ANTHROPIC_MODEL: "claude-opus-4-6-thinking", ANTHROPIC_DEFAULT_SONNET_MODEL: "claude-opus-4-6-thinking",
      ANTHROPIC_DEFAULT_OPUS_MODEL: "gemini-3-pro-high", ANTHROPIC_DEFAULT_HAIKU_MODEL: "gemini-3-flash",
      CLAUDE_CODE_SUBAGENT_MODEL: "gemini-3-flash", CLAUDE_CONFIG_DIR: "/c/ag",
    });
    const over = agEnv({ ...user, ANTI_API_BASE: "http://127.0.0.1:1", CLD_AG_CODE_MODEL: "c", CLD_AG_DOC_MODEL: "d", CLD_AG_FAST_MODEL: "f" }, "t", "/x");
    expect(over).toMatchObject({ ANTHROPIC_BASE_URL: "http://127.0.0.1:1", ANTHROPIC_MODEL: "c", ANTHROPIC_DEFAULT_OPUS_MODEL: "d", ANTHROPIC_DEFAULT_HAIKU_MODEL: "f" });
  });

  test("official: nothing injected, the user's own key untouched, proxies and auth token blanked", () => {
    const env = officialEnv(user);
    expect(env).toEqual({ ...user, ...blanks, HTTPS_PROXY: "", http_proxy: "", all_proxy: "" });
    expect(env.ANTHROPIC_API_KEY).toBe("mine");
    expect("ANTHROPIC_BASE_URL" in env).toBe(false);
  });
});
