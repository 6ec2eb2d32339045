// Issue 12 item 2: web pages cannot use a local gw. Host names a page could bring (DNS
// rebinding), Origins gw does not know, cross-site no-cors requests and preflights are answered
// by gw itself; upstream CORS allowances never reach a browser; listed origins get exactly
// their own allowance. Programs (curl, the three SDKs, Claude Code's requests) pass unchanged.
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config/index.ts";
import { browserPolicy, checkBrowser } from "../../src/lb/browser.ts";
import type { Gateway } from "../../src/lb/server.ts";
import { configFrom, externalInstances, startTestGateway, testUpstream, type TestUpstream } from "../helpers/lb.ts";
import { type MockServer, startMock } from "../helpers/mock.ts";

const LOOPBACK_PEER = (): string | undefined => "127.0.0.1";

describe("config: cors_origins and allowed_hosts", () => {
  const problems = (lines: string) =>
    parseConfig(`[global]\nmain_port = 8145\n${lines}\n[instances.a]\nport = 8146\n`, "/x/providers.toml").problems.filter((p) => p.severity === "error").map((p) => `${p.line} ${p.path}`);
  test("origins are scheme://host[:port] as browsers send them; names are bare host names", () => {
    expect(problems('cors_origins = ["https://app.example.com", "http://localhost:3000/"]\nallowed_hosts = ["gw.example.com", "[::1]"]')).toEqual([]);
    expect(problems('cors_origins = ["*", "null", "https://a.example/path", "ftp://x", "app.example.com"]')).toEqual(["3 global.cors_origins[0]", "3 global.cors_origins[1]", "3 global.cors_origins[2]", "3 global.cors_origins[3]", "3 global.cors_origins[4]"]);
    expect(problems('allowed_hosts = ["http://gw.example.com", "gw.example.com:8145", "", "a b"]')).toEqual(["3 global.allowed_hosts[0]", "3 global.allowed_hosts[1]", "3 global.allowed_hosts[2]", "3 global.allowed_hosts[3]"]);
  });
  test("an IPv6 address is taken as written, with or without brackets: Host carries it as [fd00::2]:8145", () => {
    const policy = browserPolicy(configFrom('[global]\nmain_port = 8145\nallowed_hosts = ["fd00::2", "[FD00::3]"]\n[instances.a]\nport = 8146\n'));
    expect([...policy.hosts]).toEqual(expect.arrayContaining(["[fd00::2]", "[fd00::3]"]));
    expect(checkBrowser(policy, new Request("http://x/v1/messages", { method: "POST", headers: { host: "[fd00::2]:8145" } }), LOOPBACK_PEER)).toBeUndefined();
  });
  test("a trailing slash is dropped: the policy holds the origin as browsers send it", () => {
    const policy = browserPolicy(configFrom('[global]\nmain_port = 8145\ncors_origins = ["HTTP://LocalHost:3000/"]\n[instances.a]\nport = 8146\n'));
    expect([...policy.origins]).toEqual(["http://localhost:3000"]);
  });
});

describe("checkBrowser (pure)", () => {
  const policy = browserPolicy(configFrom(`
[global]
main_port = 8145
host = "127.0.0.1"
allowed_hosts = ["gw.internal"]
cors_origins = ["https://app.example.com"]
[instances.a]
port = 8146
`));
  const req = (headers: Record<string, string>, method = "POST", path = "/v1/messages") => new Request(`http://x${path}`, { method, headers });
  const verdict = (headers: Record<string, string>, peer = LOOPBACK_PEER, method = "POST") => {
    const v = checkBrowser(policy, req(headers, method), peer);
    return v instanceof Response ? v.status : (v ?? "pass");
  };

  test("every name of this machine's loopback, and the listed names, pass", () => {
    for (const host of ["127.0.0.1:8145", "localhost:8145", "LOCALHOST", "[::1]:8145", "127.0.0.2:1", "app.localhost:8145", "localhost.:8145", "app.localhost.", "gw.internal", "GW.INTERNAL:443", "gw.internal.:8145"]) {
      expect({ host, v: verdict({ host }) }).toEqual({ host, v: "pass" });
    }
  });

  test("another name from a loopback peer is DNS rebinding: refused", () => {
    for (const host of ["evil.example:8145", "127.0.0.1.nip.io:8145", "localhost.evil.example", "localhost..", "127.0.0.1.:8145", "gw.internal.evil", "gw.internal..", "0.0.0.0:8145", "[::ffff:7f00:1]"]) {
      expect({ host, v: verdict({ host }) }).toEqual({ host, v: 403 });
    }
    expect(verdict({ host: "evil.example" }, () => undefined)).toBe(403); // unknown peer: assume the worst
  });

  test("network peers may use any name (gw listens there only with api_keys)", () => {
    expect(verdict({ host: "myserver.lan:8145" }, () => "192.0.2.7")).toBe("pass");
    expect(verdict({ host: "myserver.lan:8145" }, () => "::ffff:127.0.0.1")).toBe(403);
  });

  test("an Origin passes only when it is gw's own page or listed; `null` never", () => {
    expect(verdict({ host: "127.0.0.1:8145", origin: "http://127.0.0.1:8145" })).toBe("pass");
    expect(verdict({ host: "gw.internal", origin: "https://gw.internal" })).toBe("pass"); // behind a TLS proxy
    expect(verdict({ host: "127.0.0.1:8145", origin: "https://app.example.com" })).toBe("https://app.example.com");
    for (const origin of ["http://evil.example", "null", "http://127.0.0.1:9999", "http://localhost:8145", "https://app.example.com.evil", "file://"]) {
      expect({ origin, v: verdict({ host: "127.0.0.1:8145", origin }) }).toEqual({ origin, v: 403 });
    }
  });

  test("cross-site requests without Origin (no-cors, frames) are refused; top-level navigations and programs pass", () => {
    expect(verdict({ host: "127.0.0.1:8145", "sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors" })).toBe(403);
    expect(verdict({ host: "127.0.0.1:8145", "sec-fetch-site": "same-site", "sec-fetch-mode": "no-cors" })).toBe(403);
    expect(verdict({ host: "127.0.0.1:8145", "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document" })).toBe("pass");
    // Frames navigate too: their load or error told a page what exists.
    for (const dest of ["iframe", "frame", "object", "embed", "fencedframe"]) {
      expect([dest, verdict({ host: "127.0.0.1:8145", "sec-fetch-site": "same-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": dest })]).toEqual([dest, 403]);
    }
    expect(verdict({ host: "127.0.0.1:8145", "sec-fetch-site": "same-origin", "sec-fetch-mode": "cors" })).toBe("pass");
    expect(verdict({ host: "127.0.0.1:8145", "sec-fetch-site": "none", "sec-fetch-mode": "navigate" })).toBe("pass");
    expect(verdict({ host: "127.0.0.1:8145" })).toBe("pass");
  });

  test("OPTIONS is answered here: a listed origin gets its allowance, others nothing", () => {
    const listed = checkBrowser(policy, req({ host: "127.0.0.1:8145", origin: "https://app.example.com", "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-api-key" }, "OPTIONS"), LOOPBACK_PEER) as Response;
    expect(listed.status).toBe(204);
    expect(listed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(listed.headers.get("access-control-allow-headers")).toBe("content-type,x-api-key");
    const plain = checkBrowser(policy, req({ host: "127.0.0.1:8145" }, "OPTIONS"), LOOPBACK_PEER) as Response;
    expect(plain.status).toBe(204);
    expect([...plain.headers.keys()].filter((k) => k.startsWith("access-control-"))).toEqual([]);
    expect(verdict({ host: "127.0.0.1:8145", origin: "http://evil.example", "access-control-request-method": "POST" }, LOOPBACK_PEER, "OPTIONS")).toBe(403);
  });
});

describe("a default gw (loopback, no keys) and a CLIProxyAPI-like upstream", () => {
  let mock: MockServer, echo: TestUpstream, gw: Gateway, port: number;
  beforeAll(() => {
    mock = startMock({ name: "a" });
    // CLIProxyAPI's CORS middleware, plus a cookie: what must never reach a browser.
    echo = testUpstream((req) =>
      req.method === "OPTIONS"
        ? new Response(null, { status: 204, headers: { "access-control-allow-origin": "*" } })
        : Response.json({ ok: true }, { headers: { "access-control-allow-origin": "*", "access-control-allow-credentials": "true", "access-control-allow-private-network": "true", "set-cookie": "session=abc", "x-kept": "1" } }),
    );
    gw = startTestGateway(configFrom(`
[global]
main_port = 8145
${externalInstances({ a: mock.url, e: echo.url })}
[routing]
"m" = [{ instance = "a", provider = "anthropic", model = "claude-up" }]
"e" = [{ instance = "e", provider = "anthropic", model = "echo" }]
`));
    port = gw.port;
  });
  afterAll(async () => {
    await gw.stop(0);
    await mock.stop();
    await echo.stop();
  });

  const post = (headers: Record<string, string>, path = "/v1/messages", model = "m") =>
    fetch(`${gw.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ model, max_tokens: 5, messages: [{ role: "user", content: "hi" }] }) });

  test("a page's request (foreign Origin) is refused before any upstream sees it, on every path", async () => {
    const before = mock.stats().total;
    for (const path of ["/v1/messages", "/v1/chat/completions", "/v1beta/models/m:generateContent", "/v1/models"]) {
      const res = await post({ origin: "http://evil.example" }, path);
      expect({ path, status: res.status, cors: res.headers.get("access-control-allow-origin") }).toEqual({ path, status: 403, cors: null });
    }
    for (const path of ["/_gw/api/status", "/metrics", "/_gw/", "/healthz"]) {
      const res = await fetch(`${gw.url}${path}`, { headers: { origin: "http://evil.example" } });
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
    }
    expect(mock.stats().total).toBe(before);
  });

  test("DNS rebinding (a foreign Host on loopback) reaches neither the APIs nor the status data", async () => {
    const before = mock.stats().total;
    for (const path of ["/v1/messages", "/_gw/api/status", "/metrics", "/_gw/"]) {
      const res = await fetch(`${gw.url}${path}`, { method: path === "/v1/messages" ? "POST" : "GET", headers: { host: `rebind.evil.example:${port}` }, body: path === "/v1/messages" ? '{"model":"m"}' : undefined });
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      expect(await res.text()).toContain("allowed_hosts");
    }
    expect(mock.stats().total).toBe(before);
  });

  test("preflights are never forwarded and never allowed", async () => {
    const pre = await fetch(`${gw.url}/v1/messages`, { method: "OPTIONS", headers: { origin: "http://evil.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
    expect(pre.status).toBe(403);
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    const bare = await fetch(`${gw.url}/v1/messages`, { method: "OPTIONS" });
    expect(bare.status).toBe(204);
    expect(echo.seen.filter((s) => s.method === "OPTIONS")).toEqual([]);
  });

  test("upstream access-control-* and set-cookie never pass; other headers do", async () => {
    const res = await post({}, "/v1/messages", "e");
    expect(res.status).toBe(200);
    expect([...res.headers.keys()].filter((k) => k.startsWith("access-control-") || k === "set-cookie")).toEqual([]);
    expect(res.headers.get("x-kept")).toBe("1");
    const viaMock = await post({});
    expect([...viaMock.headers.keys()].filter((k) => k.startsWith("access-control-"))).toEqual([]);
  });

  test("curl, Claude Code's requests and the three SDKs work unchanged", async () => {
    // The real curl (async: a synchronous child would block this process's own server).
    const curl = Bun.spawn(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "content-type: application/json", "-d", '{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}', `${gw.url}/v1/messages`], { stdout: "pipe" });
    expect(await new Response(curl.stdout).text()).toBe("200");
    // Claude Code 2.1.x: a HEAD probe, then its message call with its own headers.
    expect((await fetch(`${gw.url}/api/hello`, { method: "HEAD" })).status).toBe(200);
    const cc = await post({ authorization: "Bearer any", "anthropic-version": "2023-06-01", "anthropic-beta": "claude-code-20250219", "x-app": "cli", "user-agent": "claude-cli/2.1.332 (external, cli)", "x-claude-code-session-id": "3f1f2a6b" }, "/v1/messages?beta=true");
    expect(cc.status).toBe(200);
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: "unused", maxRetries: 0 });
    expect((await anthropic.messages.create({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "hi" }] })).type).toBe("message");
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    expect((await openai.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] })).choices.length).toBe(1);
    const google = new GoogleGenAI({ apiKey: "unused", httpOptions: { baseUrl: gw.url, apiVersion: "v1beta" } });
    expect(((await google.models.generateContent({ model: "m", contents: "hi" })).text ?? "").length).toBeGreaterThan(0);
  });
});

describe("with [global] cors_origins", () => {
  let mock: MockServer, gw: Gateway;
  beforeAll(() => {
    mock = startMock({ name: "a" });
    gw = startTestGateway(configFrom(`
[global]
main_port = 8145
cors_origins = ["https://app.example.com"]
${externalInstances({ a: mock.url })}
[routing]
"m" = [{ instance = "a", provider = "anthropic", model = "claude-up" }]
`));
  });
  afterAll(async () => {
    await gw.stop(0);
    await mock.stop();
  });

  test("the listed origin gets its preflight and its own allowance (never *), others still nothing", async () => {
    const pre = await fetch(`${gw.url}/v1/messages`, { method: "OPTIONS", headers: { origin: "https://app.example.com", "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-api-key,anthropic-version" } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(pre.headers.get("access-control-allow-headers")).toBe("content-type,x-api-key,anthropic-version");
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { origin: "https://app.example.com", "content-type": "application/json" }, body: '{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}' });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(res.headers.get("vary")).toContain("Origin");
    const other = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { origin: "https://other.example.com" }, body: '{"model":"m"}' });
    expect(other.status).toBe(403);
  });
});

test("a request without Host (HTTP/1.0) gets a 400 that says what to send, on every path — not a 500", async () => {
  const gw = startTestGateway(configFrom(`[global]\nmain_port = 8145\nhost = "127.0.0.1"\n[instances.a]\nurl = "http://127.0.0.1:9"\nproviders = [{ type = "anthropic" }]\n`));
  try {
    for (const path of ["/healthz", "/v1/models", "/_gw/api/status"]) {
      const answer = await new Promise<string>((resolve) => {
        let got = "";
        void Bun.connect({
          hostname: "127.0.0.1",
          port: gw.port,
          socket: {
            open: (s) => void s.write(`GET ${path} HTTP/1.0\r\n\r\n`),
            data: (_s, d) => void (got += new TextDecoder().decode(d)),
            close: () => resolve(got),
          },
        });
      });
      expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 400 Bad Request");
      expect(answer).toContain(`the request has no Host header; send one (Host: 127.0.0.1:${gw.port})`);
    }
  } finally {
    await gw.stop(0);
  }
});
