// Which proxy a connection error names (lb/noproxy.ts proxyFor): the one Bun's fetch took.
import { expect, test } from "bun:test";
import { networkError } from "../../src/lb/forward.ts";
import type { Config } from "../../src/config/types.ts";
import { bypassProxyForInstances, proxyFor } from "../../src/lb/noproxy.ts";

const at = (url: string, env: Record<string, string>) => proxyFor(new URL(url), env);

test("the scheme's variable, either case (https takes no HTTP_PROXY, as in Bun); the password never shows", () => {
  expect(at("https://relay.example.com/v1", { HTTPS_PROXY: "http://p:3128" })).toBe("http://p:3128 ($HTTPS_PROXY)");
  expect(at("https://relay.example.com/v1", { https_proxy: "http://u:secret@p:3128" })).toBe("http://p:3128 ($https_proxy)");
  expect(at("https://relay.example.com/v1", { http_proxy: "http://u:secret@p:3128" })).toBeUndefined();
  expect(at("http://relay.example.com/v1", { http_proxy: "http://u:secret@p:3128" })).toBe("http://p:3128 ($http_proxy)");
  expect(at("http://relay.example.com/v1", { HTTPS_PROXY: "http://p:3128" })).toBeUndefined();
  expect(at("http://relay.example.com/v1", {})).toBeUndefined();
});

test("NO_PROXY: *, a name the host ends with, a port-bound entry on its port only, IPv6", () => {
  const env = (no: string) => ({ HTTP_PROXY: "http://p:1", NO_PROXY: no });
  expect(at("http://relay.example.com:8317", env("*"))).toBeUndefined();
  expect(at("http://relay.example.com:8317", env("other.org, example.com"))).toBeUndefined();
  expect(at("http://relay.example.com:8317", env(".example.com"))).toBeUndefined();
  expect(at("http://relay.example.com:8317", env("relay.example.com:8317"))).toBeUndefined();
  expect(at("http://relay.example.com:8317", env("relay.example.com:9999"))).toBe("http://p:1 ($HTTP_PROXY)");
  expect(at("http://relay.example.com:8317", env("example.org"))).toBe("http://p:1 ($HTTP_PROXY)");
  expect(at("http://[fd00::5]:8317", env("fd00::5"))).toBeUndefined();
  expect(at("http://[fd00::5]:8317", env("[fd00::5]:8317"))).toBeUndefined();
  expect(at("http://[fd00::5]:8317", { HTTP_PROXY: "http://p:1", no_proxy: "10.0.0.1" })).toBe("http://p:1 ($HTTP_PROXY)");
});

test("as Bun: a name ends the host at a dot only; an IP address exactly or in an IPv4 CIDR block; a proxy without a scheme loses its password too", () => {
  const env = (no: string) => ({ HTTP_PROXY: "http://p:1", NO_PROXY: no });
  expect(at("http://myexample.com:8317", env("example.com"))).toBe("http://p:1 ($HTTP_PROXY)");
  expect(at("http://relay.example.com:8317", env("*.example.com"))).toBeUndefined();
  expect(at("http://10.1.2.3:8317", env("10.0.0.0/8"))).toBeUndefined();
  expect(at("http://10.1.2.3:8317", env("10.1.2.0/24"))).toBeUndefined();
  expect(at("http://10.1.2.3:8317", env("192.168.0.0/16"))).toBe("http://p:1 ($HTTP_PROXY)");
  expect(at("http://10.1.2.3:8317", env(".2.3"))).toBe("http://p:1 ($HTTP_PROXY)");
  expect(at("http://relay.example.com/v1", { HTTP_PROXY: "corp:hunter2@p:3128" })).toBe("p:3128 ($HTTP_PROXY)");
  expect(at("http://relay.example.com/v1", { HTTP_PROXY: "http://corp:hun@ter2@p:3128" })).toBe("http://p:3128 ($HTTP_PROXY)");
});

test("a network error names the proxy its connection went through (probes and attempts alike), with Bun's advice for programmers dropped", () => {
  const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
  try {
    process.env.HTTP_PROXY = "http://corp:pw@proxy.corp:3128";
    process.env.NO_PROXY = process.env.no_proxy = "127.0.0.1,localhost,::1";
    const refused = new Error("ECONNREFUSED: Unable to connect. For more information, pass `verbose: true` in the second argument to fetch()");
    expect(networkError(refused, "http://relay.example:8317/v1/models")).toBe("ECONNREFUSED: Unable to connect. (through the proxy http://proxy.corp:3128 ($HTTP_PROXY): is it up, or should NO_PROXY list this host?)");
    expect(networkError(refused, "http://127.0.0.1:8317/healthz")).toBe("ECONNREFUSED: Unable to connect.");
    expect(networkError(refused)).toBe("ECONNREFUSED: Unable to connect.");
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

test("gw's own fetch bypasses the proxy for loopback and its loopback instances, keeping the user's list; a space-separated one comes out comma-separated, as Bun reads it", () => {
  const env: Record<string, string | undefined> = { HTTP_PROXY: "http://p:1", NO_PROXY: "corp.example.com internal.example.com", no_proxy: "Localhost" };
  const config = { instances: [{ baseUrl: "http://127.0.0.2:8317" }, { baseUrl: "http://[::1]:8318" }, { baseUrl: "https://relay.example.org" }] } as unknown as Config;
  bypassProxyForInstances(config, env);
  expect(env.NO_PROXY).toBe("corp.example.com,internal.example.com,Localhost,127.0.0.1,::1,127.0.0.2");
  expect(env.no_proxy).toBe(env.NO_PROXY);
  expect(at("http://internal.example.com:8317", env as Record<string, string>)).toBeUndefined();
  expect(at("http://127.0.0.2:8317", env as Record<string, string>)).toBeUndefined();
  expect(at("https://relay.example.org/v1", { ...(env as Record<string, string>), HTTPS_PROXY: "http://p:1" })).toBe("http://p:1 ($HTTPS_PROXY)");
});
