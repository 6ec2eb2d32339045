// Issue 12 items 6 and 8: everything gw shows goes through one masker — the status API (and so
// the page), /metrics labels, `gw status`, gw.log, cooldown and error reasons — and reasons are
// masked before they are cut, so no cut leaves part of a key behind. URLs lose their
// `user:password@`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { classifyOutcome, failureOutcome } from "../../src/lb/classify.ts";
import type { RunningGateway } from "../../src/lb/server.ts";
import { secretsOf } from "../../src/observe/config-secrets.ts";
import { createMasker, maskDeep, maskedLog, maskerOf, maskSecret } from "../../src/observe/mask.ts";
import { InstanceSet } from "../../src/supervisor/instances.ts";
import { buildStatus } from "../../src/supervisor/status.ts";
import { DEFAULT_TIMING } from "../../src/supervisor/timing.ts";
import { configFrom, startTestGateway, testUpstream, type TestUpstream } from "../helpers/lb.ts";
import { LB_DEFAULTS } from "../helpers/policy.ts";

const PROVIDER_KEY = "sk-ant-api03-PROVIDERkey0123456789abcdefghij";
const INSTANCE_KEY = "gw-instance-key-7f3a9c2e5b1d4f60";
const CLIENT_KEY = "client-key-abcdef0123456789";
const URL_PASSWORD = "hunter2-url-password";
const OAUTH_TOKEN = "ya29.a0AfH6SMBcdefghijklmnopqrstuv";

/** No run of 10 characters of `secret` may survive (the masked form keeps 6 + 4), or of `run`. */
const leaks = (text: string, secret: string, run = 10) => {
  for (let i = 0; i + run <= secret.length; i++) if (text.includes(secret.slice(i, i + run))) return secret.slice(i, i + run);
  return undefined;
};

describe("item 8: reasons are masked first, then cut", () => {
  const mask = createMasker([PROVIDER_KEY]).text;
  test("a key straddling the cut is masked whole, known or only of a known shape", () => {
    for (const secret of [PROVIDER_KEY, "sk-proj-UNKNOWNkey0123456789abcdefghijklmn"]) {
      for (let pad = 140; pad <= 160; pad += 5) {
        const body = JSON.stringify({ error: { message: `${"x".repeat(pad)} ${secret} is not valid` } });
        const reason = classifyOutcome({ status: 401, bodyText: body, mask }, LB_DEFAULTS.cooldownsMs).reason;
        expect({ pad, leak: leaks(reason, secret.toLowerCase()) }).toEqual({ pad, leak: undefined });
      }
    }
  });
  test("connection failures too", () => {
    const r = failureOutcome("connection", `${"y".repeat(185)} ${PROVIDER_KEY}`, LB_DEFAULTS.cooldownsMs, mask).reason;
    expect(leaks(r, PROVIDER_KEY)).toBeUndefined();
  });
});

describe("URL credentials", () => {
  test("user:password@ and token@ are masked in any text; ?key= and ?auth_token= in URLs", () => {
    const m = createMasker();
    expect(m.text(`fetch http://user:${URL_PASSWORD}@relay.example/v1 failed`)).toBe(`fetch http://${maskSecret(`user:${URL_PASSWORD}`)}@relay.example/v1 failed`);
    expect(m.text("git https://ghp_0123456789abcdefghij@github.com/x")).not.toContain("ghp_0123456789abcdefghij");
    expect(m.url("/v1/models?auth_token=abcdefghijklmnopqrstu")).toBe("/v1/models?auth_token=abcdef…rstu");
    expect(m.text("mailto:someone@example.com and a@b")).toBe("mailto:someone@example.com and a@b");
  });
  test("secretsOf knows passwords of instance, provider and proxy URLs, not user names", () => {
    const cfg = configFrom(`
[global]
main_port = 8145
proxy = "http://proxyuser:proxy-pass-9876@proxy.local:3128"
[instances.ext]
url = "http://user:${URL_PASSWORD}@127.0.0.1:9001"
api_key = "${INSTANCE_KEY}"
providers = [{ type = "anthropic", base_url = "https://tokenonly0123456789@relay.example", api_keys = ["${PROVIDER_KEY}"] }]
`);
    const secrets = secretsOf(cfg);
    expect(secrets).toEqual(expect.arrayContaining([URL_PASSWORD, "proxy-pass-9876", "tokenonly0123456789", INSTANCE_KEY, PROVIDER_KEY]));
    expect(secrets).not.toContain("user");
    expect(secrets).not.toContain("proxyuser");
    // As fetch sends them: `Authorization: Basic base64(user:password)`, `Proxy-Authorization` alike.
    expect(secrets).toEqual(expect.arrayContaining([btoa(`user:${URL_PASSWORD}`), btoa("proxyuser:proxy-pass-9876"), btoa("tokenonly0123456789:")]));
  });
  test("secretsOf knows relay keys in URL query strings and credentials a route's extra_headers send", () => {
    const cfg = configFrom(`
[global]
main_port = 8145
[instances.ext]
url = "http://127.0.0.1:9001"
providers = [{ type = "gemini", base_url = "https://relay.example/v1beta?alt=sse&key=relay-query-key-42" }]
[routing]
"m" = [{ instance = "ext", provider = "gemini", model = "up", params = { extra_headers = { "X-Relay-Token" = "relaytok-5150-abcd", "Authorization" = "Bearer bearer-tok-777", "X-Title" = "my-team-app" } } }]
`);
    const secrets = secretsOf(cfg);
    expect(secrets).toEqual(expect.arrayContaining(["relay-query-key-42", "relaytok-5150-abcd", "bearer-tok-777"]));
    expect(secrets).not.toContain("sse");
    expect(secrets).not.toContain("my-team-app"); // a header that names no credential is not a secret
  });
});

describe("maskDeep and maskedLog", () => {
  const m = createMasker([PROVIDER_KEY]);
  test("every string of plain data, at any depth; other values untouched", () => {
    const out = maskDeep({ a: [PROVIDER_KEY, 1, null, { b: `x ${PROVIDER_KEY}` }], n: 3, t: true }, m.text);
    expect(out).toEqual({ a: [maskSecret(PROVIDER_KEY), 1, null, { b: `x ${maskSecret(PROVIDER_KEY)}` }], n: 3, t: true });
  });
  test("log lines pass the masker current when they are written", () => {
    const lines: string[] = [];
    let current = m;
    const log = maskedLog({ info: (s: string) => lines.push(s), warn: (s: string) => lines.push(s), error: (s: string) => lines.push(s) }, () => current);
    log.warn(`cooling: ${PROVIDER_KEY}`);
    current = createMasker([INSTANCE_KEY]);
    log.error(`cooling: ${INSTANCE_KEY}`);
    expect(lines).toEqual([`cooling: ${maskSecret(PROVIDER_KEY)}`, `cooling: ${maskSecret(INSTANCE_KEY)}`]);
  });
});

describe("an instance whose url carries its token: fetch sends it as Basic credentials", () => {
  const TOKEN = "tok3nAsUserSecretXYZ123456";
  let up: TestUpstream, gw: RunningGateway;
  const logged: string[] = [];
  beforeAll(() => {
    // An upstream that quotes the Authorization header it was sent, in its error and a header.
    up = testUpstream((req) => Response.json({ error: { type: "authentication_error", message: `upstream saw ${req.headers.get("authorization")}` } }, { status: 401, headers: { "x-saw": req.headers.get("authorization") ?? "" } }));
    const url = `http://${TOKEN}@127.0.0.1:${new URL(up.url).port}`;
    const config = configFrom(`[global]\nmain_port = 8145\n[instances.a]\nurl = "${url}"\nproviders = [{ type = "anthropic" }]\n[routing]\n"m" = [{ instance = "a", provider = "anthropic", model = "m" }]\n`);
    gw = startTestGateway(config, { log: maskedLog({ info: (s: string) => logged.push(s), warn: (s: string) => logged.push(s), error: (s: string) => logged.push(s) }, () => maskerOf(gw.config())) });
  });
  afterAll(async () => {
    await gw.stop(0);
    await up.stop();
  });

  test("what the upstream quotes of them reaches neither the client, nor the status API, nor gw's log", async () => {
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: '{"model":"m","max_tokens":5,"messages":[]}' });
    const body = await res.text();
    expect(res.status).toBe(401);
    expect(body).toContain("upstream saw Basic ");
    expect(up.seen.at(-1)!.headers.get("authorization")).toBe(`Basic ${btoa(`${TOKEN}:`)}`); // what fetch made of the url
    const status = await (await fetch(`${gw.url}/_gw/api/status`)).text();
    const log = logged.join("\n");
    expect(log).toContain("cooling: m → a/m");
    for (const [where, text] of Object.entries({ body, header: res.headers.get("x-saw") ?? "", status, log })) {
      for (const secret of [TOKEN, btoa(`${TOKEN}:`)]) expect({ where, leak: leaks(text, secret) ?? leaks(text, secret.toLowerCase()) }).toEqual({ where, leak: undefined });
    }
  });
});

describe("an upstream that echoes the key it was sent, encoded: percent-encoded, and in base64 (standard and URL-safe)", () => {
  // A key with the characters percent-encoding and base64 change: `+ / =`.
  const KEY = "Zx9+Qw8/Er7Ty6Ui5Op4As3Df2Gh1Jk0==";
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const b64url = (s: string) => Buffer.from(s).toString("base64url");
  let up: TestUpstream, gw: RunningGateway;
  const logged: string[] = [];
  beforeAll(() => {
    up = testUpstream((req) => {
      const auth = req.headers.get("authorization") ?? "";
      return Response.json(
        { error: { type: "invalid_request_error", message: `url=${encodeURIComponent(auth)} b64=${b64(`{"auth":"${auth}"}`)} b64url=${b64url(`x-${auth}`)}` } },
        { status: 400, headers: { "x-echo-b64": b64(auth), "x-echo-pct": encodeURIComponent(auth) } },
      );
    });
    gw = startTestGateway(configFrom(`[global]\nmain_port = 8145\n[instances.a]\nurl = "${up.url}"\napi_key = "${KEY}"\nproviders = [{ type = "anthropic" }]\n[routing]\n"m" = [{ instance = "a", provider = "anthropic", model = "m" }]\n`), {
      log: maskedLog({ info: (s: string) => logged.push(s), warn: (s: string) => logged.push(s), error: (s: string) => logged.push(s) }, () => maskerOf(gw.config())),
    });
  });
  afterAll(async () => {
    await gw.stop(0);
    await up.stop();
  });

  test("none of its forms reaches the client's body or headers, the status API or gw's log", async () => {
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: '{"model":"m","max_tokens":5,"messages":[]}' });
    const body = await res.text();
    expect(res.status).toBe(400);
    expect(up.seen.at(-1)!.headers.get("authorization")).toBe(`Bearer ${KEY}`);
    const status = await (await fetch(`${gw.url}/_gw/api/status`)).text();
    const surfaces = { body, b64Header: res.headers.get("x-echo-b64") ?? "", pctHeader: res.headers.get("x-echo-pct") ?? "", status, log: logged.join("\n") };
    // Each form as the upstream wrote it. Plain: no run of 10 (the masked form keeps 6 + 4). In
    // base64 the masked run keeps its 6 + 4 too, next to up to 4 characters it shares with the
    // bytes around the key (left as they are): no run of 14.
    for (const [where, text] of Object.entries(surfaces)) {
      for (const form of [KEY, encodeURIComponent(KEY)]) expect({ where, form, leak: leaks(text, form) }).toEqual({ where, form, leak: undefined });
      // (from the group that holds the key's first byte: what comes before is not the key's)
      for (const form of [b64(`Bearer ${KEY}`).slice(8), b64(`{"auth":"Bearer ${KEY}"}`).slice(20), b64url(`x-Bearer ${KEY}`).slice(12)]) expect({ where, form, leak: leaks(text, form, 14) }).toEqual({ where, form, leak: undefined });
    }
  });
});

describe("item 6: a gateway whose upstream quotes every secret it knows", () => {
  let up: TestUpstream, gw: RunningGateway;
  const logged: string[] = [];
  beforeAll(() => {
    // What a relay does when it dislikes a key: it quotes it back, with a few more.
    up = testUpstream(() =>
      Response.json({ error: { type: "authentication_error", message: `invalid x-api-key ${PROVIDER_KEY}; instance ${INSTANCE_KEY}; client ${CLIENT_KEY}; token ${OAUTH_TOKEN}; via http://user:${URL_PASSWORD}@relay` } }, { status: 401 }),
    );
    const port = new URL(up.url).port;
    gw = startTestGateway(
      configFrom(`
[global]
main_port = 8145
api_keys = ["${CLIENT_KEY}"]
[instances.a]
url = "http://user:${URL_PASSWORD}@127.0.0.1:${port}"
api_key = "${INSTANCE_KEY}"
providers = [{ type = "anthropic", api_keys = ["${PROVIDER_KEY}"] }]
[routing]
"m" = [{ instance = "a", provider = "anthropic", model = "relay-sk-proj-ModelNameLooksLikeAKey01" }]
`),
      // gw's log is masked as `gw up` and `gw lb` wire it (supervisor/run.ts, commands/lb.ts).
      { log: maskedLog({ info: (s: string) => logged.push(s), warn: (s: string) => logged.push(s), error: (s: string) => logged.push(s) }, () => maskerOf(gw.config())) },
    );
    gw.observe.setLive(() => ({ instances: [], cooling: gw.coolingList(Date.now()) }));
  });
  afterAll(async () => {
    await gw.stop(0);
    await up.stop();
  });

  const SECRETS = [PROVIDER_KEY, INSTANCE_KEY, CLIENT_KEY, OAUTH_TOKEN, URL_PASSWORD, "relay-sk-proj-ModelNameLooksLikeAKey01".slice(6)];

  test("the state store, the status API, /metrics, gw status and gw's log show none of them", async () => {
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "x-api-key": CLIENT_KEY }, body: '{"model":"m","max_tokens":5,"messages":[]}' });
    await res.text();
    const cooling = gw.coolingList(Date.now());
    expect(cooling).toHaveLength(1);
    expect(cooling[0]!.reason).toContain("401");
    const status = await (await fetch(`${gw.url}/_gw/api/status`)).text();
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(status).toContain("invalid x-api-key");
    expect(status).toContain("http://");
    expect(metrics).toContain("gw_cooldowns_active");
    const config = gw.config();
    const set = new InstanceSet(config, { timing: DEFAULT_TIMING, env: {}, log: { info() {}, warn() {}, error() {} }, logFile: () => "/dev/null", childrenChanged() {} });
    const report = JSON.stringify(buildStatus({ config, set, gateway: gw, phase: "serving", startedAt: Date.now(), demo: false }));
    expect(report).toContain("cooling");
    const log = logged.join("\n");
    expect(log).toContain("cooling: m → a/");
    expect(log).toContain("invalid x-api-key");
    for (const [where, text] of Object.entries({ reason: cooling[0]!.reason, status, metrics, report, log })) {
      for (const secret of SECRETS) expect({ where, leak: leaks(text, secret) ?? leaks(text, secret.toLowerCase()) }).toEqual({ where, leak: undefined });
    }
    expect(maskerOf(config)).toBe(maskerOf(config)); // one masker per config
  });
});
