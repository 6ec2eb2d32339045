// Log hygiene: a real `gw up` (supervised `gw mock` instances plus an external one) serves traffic
// that presents every kind of key — client keys as x-api-key, Bearer, x-goog-api-key and ?key=,
// a wrong client key, the admin key, generated instance keys, an external instance's key, provider
// keys (one from .env) — including failing attempts; afterwards no secret appears in logs/.
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { configFrom, startTestGateway, testUpstream } from "../../helpers/lb.ts";
import { filesUnder, logRecords, readRequestLog, rejection, waitFor } from "../../helpers/resilience.ts";
import { type MockServer, startMock } from "../../helpers/mock.ts";
import { killAll, type RunningGw, type Sandbox, sandbox, startGw } from "../../helpers/supervisor.ts";
import { tempDir } from "../../helpers/tmp.ts";

const secret = (prefix: string) => `${prefix}${Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64url")}`;
const KEYS = {
  client1: secret("cli-one-"),
  client2: secret("cli-two-"),
  wrongClient: secret("sk-wrong-"),
  admin: secret("adm-"),
  external: secret("ext-inst-"),
  anthropic: secret("sk-ant-api03-"),
  openai: secret("sk-proj-"),
  // 35 random characters (padding with "x" would read as a placeholder, which gw refuses)
  gemini: `AIza${(secret("") + secret("")).slice(0, 35)}`,
  fromEnv: secret("sk-relay-"),
  externalProvider: secret("sk-ext-prov-"),
};
const mask = (s: string) => `${s.slice(0, 6)}…${s.slice(-4)}`;

/** A gateway's config head: one client key, and an external instance with its own key and a provider key. */
const keyedInstance = (name: string, url: string, k: { instanceKey: string; providerKey: string; clientKey: string }) => `[global]
main_port = 8145
api_keys = ["${k.clientKey}"]
[instances.${name}]
url = "${url}"
api_key = "${k.instanceKey}"
providers = [{ type = "anthropic", api_keys = ["${k.providerKey}"] }]
`;

let sb: Sandbox | undefined;
let running: RunningGw | undefined;
let external: MockServer | undefined;
afterAll(async () => {
  if (sb) await killAll(sb, running);
  await external?.stop();
});

test("after a run with every kind of key, no secret appears in logs/", async () => {
  sb = await sandbox([{ name: "a" }, { name: "b" }]);
  external = startMock({ name: "ext", apiKeys: [KEYS.external] });
  writeFileSync(join(sb.dir, ".env"), `RELAY_KEY=${KEYS.fromEnv}\n`);
  writeFileSync(
    sb.file,
    `[global]
host = "127.0.0.1"
main_port = ${sb.mainPort}
cliproxy = "${join(sb.dir, "cliproxy.sh")}"
shutdown_grace_ms = 2000
api_keys = ["${KEYS.client1}", "${KEYS.client2}"]
admin_key = "${KEYS.admin}"

[instances.a]
port = ${sb.ports.a}
providers = [
  { type = "anthropic", api_keys = ["${KEYS.anthropic}"] },
  { type = "openai", base_url = "https://relay.invalid/v1", api_keys = ["${KEYS.openai}"] },
]

[instances.b]
port = ${sb.ports.b}
providers = [{ type = "gemini", api_keys = ["${KEYS.gemini}"] }, { type = "anthropic", api_keys = ["\${RELAY_KEY}"] }]

[instances.ext]
url = "${external.url}"
api_key = "${KEYS.external}"
providers = [{ type = "anthropic", api_keys = ["${KEYS.externalProvider}"] }]

[routing]
"main" = [
  { instance = "a", provider = "anthropic", model = "claude-a" },
  { instance = "b", provider = "anthropic", model = "claude-b" },
  { instance = "ext", provider = "anthropic", model = "claude-ext" },
]
"denied" = [
  { instance = "a", provider = "anthropic", model = "claude-a~401", priority = 1 },
  { instance = "ext", provider = "anthropic", model = "claude-ext" },
]
"quota" = [{ instance = "b", provider = "gemini", model = "gemini-b~403" }]
"gem" = [{ instance = "b", provider = "gemini", model = "gemini-b" }]
"oai" = [{ instance = "a", provider = "openai", model = "gpt-a" }]
`,
  );
  running = startGw(sb, ["up", "-c", sb.file]);
  await running.waitFor("serving on", 60_000);
  const base = `http://127.0.0.1:${sb.mainPort}`;

  // Client key as x-api-key, then as Bearer; streamed and not; a failing target (401) on the way.
  const viaHeader = new Anthropic({ baseURL: base, apiKey: KEYS.client1, maxRetries: 0 });
  const viaBearer = new Anthropic({ baseURL: base, apiKey: null, authToken: KEYS.client2, maxRetries: 0 });
  const ask = { max_tokens: 2048, messages: [{ role: "user" as const, content: "hi" }] };
  await viaHeader.messages.create({ model: "main", ...ask, metadata: { user_id: JSON.stringify({ device_id: "d", account_uuid: "u", session_id: crypto.randomUUID() }) } });
  await viaHeader.messages.stream({ model: "main", ...ask, thinking: { type: "enabled", budget_tokens: 1024 } }).finalMessage();
  await viaBearer.messages.create({ model: "denied", ...ask });
  await viaBearer.messages.countTokens({ model: "main", messages: ask.messages });
  // OpenAI SDK (Bearer): chat and responses.
  const oai = new OpenAI({ baseURL: `${base}/v1`, apiKey: KEYS.client1, maxRetries: 0 });
  await oai.chat.completions.create({ model: "oai", messages: ask.messages });
  await oai.responses.create({ model: "main", input: "hi" });
  // Gemini SDK (x-goog-api-key), one call failing upstream with a quota error.
  const gem = new GoogleGenAI({ apiKey: KEYS.client2, httpOptions: { baseUrl: base, apiVersion: "v1beta" } });
  await gem.models.generateContent({ model: "gem", contents: "hi" });
  await rejection(gem.models.generateContent({ model: "quota", contents: "hi" }));
  // ?key= in the query, as some Gemini clients send it.
  const byQuery = await fetch(`${base}/v1beta/models/gem:generateContent?key=${KEYS.client1}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
  });
  expect(byQuery.status).toBe(200);
  // A wrong client key, and the admin key on gw's own pages.
  const wrong = await rejection(new Anthropic({ baseURL: base, apiKey: KEYS.wrongClient, maxRetries: 0 }).messages.create({ model: "main", ...ask }));
  expect(wrong).toBeInstanceOf(Anthropic.AuthenticationError);
  for (const path of ["/metrics", "/_gw/api/status"]) {
    expect((await fetch(`${base}${path}`, { headers: { "x-admin-key": KEYS.admin } })).status).toBe(200);
  }

  await waitFor(() => readRequestLog(sb!.dir).length >= 9, 15_000, "the request log records");
  process.kill(running.proc.pid, "SIGTERM");
  await running.proc.exited;

  const managed = Object.values(JSON.parse(readFileSync(join(sb.dir, ".gw", "keys.json"), "utf8")) as Record<string, string>);
  expect(managed).toHaveLength(2);
  const secrets = [...Object.values(KEYS), ...managed];
  const requestsDir = join(sb.dir, "logs", "requests");
  const files = filesUnder(join(sb.dir, "logs"));
  // Day files named by the UTC day of their records, beside the config.
  const dayFiles = files.filter((f) => f.startsWith(requestsDir)).map((f) => f.slice(f.lastIndexOf("/") + 1));
  expect(dayFiles.length).toBeGreaterThan(0);
  for (const r of readRequestLog(sb.dir)) expect(dayFiles).toContain(`${r.ts.slice(0, 10)}.jsonl`);
  for (const name of dayFiles) expect(name).toMatch(/^\d{4}-\d{2}-\d{2}\.jsonl$/);
  const leaksIn = (paths: string[]) =>
    paths.flatMap((f) => {
      const text = readFileSync(f, "utf8");
      return secrets.filter((s) => text.includes(s)).map((s) => `${f.slice(sb!.dir.length + 1)} holds ${mask(s)}`);
    });
  expect(leaksIn(files)).toEqual([]);
  // The scan does find secrets where they belong: the instance YAML carries the provider keys.
  expect(leaksIn(filesUnder(join(sb.dir, "instances"))).length).toBeGreaterThanOrEqual(4);

  // The log still says who called, masked to first 6 … last 4.
  const clients = new Set(readRequestLog(sb.dir).map((r) => r.client));
  expect(clients.has(mask(KEYS.client1))).toBe(true);
  expect(clients.has(mask(KEYS.client2))).toBe(true);
}, 120_000);

test("an upstream that echoes keys in its error bodies: the request log masks them (in any letter case)", async () => {
  const instanceKey = secret("InstKey-");
  const providerKey = secret("Relay-");
  const clientKey = secret("Client-");
  // Tokens gw cannot know, which the masker promises to catch by their shape.
  const googleKey = `AIza${secret("").slice(0, 35).padEnd(35, "Q")}`;
  const jwt = `eyJ${secret("").slice(0, 20)}.eyJ${secret("").slice(0, 20)}.${secret("").slice(0, 24)}`;
  const bearer = secret("Tok");
  // Answers 401 / 503 / 400 with error texts that quote the key it was sent and the provider key.
  // A copy of a key in other letter case still gives it away: trying the case variants of its
  // ~20 letters is about a million guesses.
  const echo = testUpstream((req, seen) => {
    const auth = req.headers.get("authorization") ?? "";
    const status = Number((JSON.parse(seen.body) as { model: string }).model.split("~")[1]);
    // Short texts: gw keeps the head of an error for its log lines.
    const message = {
      401: `rejected Bearer ${bearer} and ${googleKey}`,
      503: `auth_unavailable: ${jwt} for ${auth}`,
      400: `credential rejected: got ${auth}, upstream key ${providerKey} (client ${clientKey})`,
    }[status];
    return Response.json({ type: "error", error: { type: "authentication_error", message } }, { status });
  });
  const ok = startMock({ name: "ok", apiKeys: ["ok-instance-key-0123456789"] });
  const dir = tempDir("gw-hygiene-");
  const gw = startTestGateway(
    configFrom(
      `${keyedInstance("echo", echo.url, { instanceKey, providerKey, clientKey })}
[instances.ok]
url = "${ok.url}"
api_key = "ok-instance-key-0123456789"
providers = [{ type = "anthropic", api_keys = ["sk-ok-provider-key-0123456789"] }]
[routing]
${[401, 503, 400]
  .map((s) => `"echo-${s}" = [{ instance = "echo", provider = "anthropic", model = "m~${s}", priority = 1 }, { instance = "ok", provider = "anthropic", model = "claude-ok" }]`)
  .join("\n")}
`,
      join(dir, "providers.toml"),
    ),
  );
  try {
    const client = new Anthropic({ baseURL: gw.url, apiKey: clientKey, maxRetries: 0 });
    const ask = { max_tokens: 64, messages: [{ role: "user" as const, content: "hi" }] };
    await client.messages.create({ model: "echo-401", ...ask }); // fails over to ok
    await client.messages.create({ model: "echo-503", ...ask }); // fails over to ok
    const err = await rejection(client.messages.create({ model: "echo-400", ...ask })); // delivered to the client as is
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    const recs = await logRecords(dir, 3);
    // The log did record the failed attempts and the delivered error.
    expect(recs.flatMap((r) => r.routing.attempts).filter((a) => a.error).length).toBeGreaterThanOrEqual(3);
    const leaks: string[] = [];
    for (const f of filesUnder(join(dir, "logs"))) {
      const text = readFileSync(f, "utf8").toLowerCase();
      for (const s of [instanceKey, providerKey, clientKey, googleKey, jwt, bearer]) if (text.includes(s.toLowerCase())) leaks.push(`${mask(s)} in ${f.slice(dir.length + 1)}`);
    }
    expect(leaks).toEqual([]);
  } finally {
    await gw.stop(0);
    await echo.stop();
    await ok.stop();
  }
}, 60_000);

test("a client naming a configured key as its model, role or program: the request log masks it", async () => {
  const instanceKey = secret("InstKey-");
  const providerKey = secret("Relay-");
  const clientKey = secret("Client-");
  const up = startMock({ name: "up", apiKeys: [instanceKey] });
  const dir = tempDir("gw-hygiene-");
  const gw = startTestGateway(
    configFrom(
      `${keyedInstance("up", up.url, { instanceKey, providerKey, clientKey })}
[routing]
"main" = [{ instance = "up", provider = "anthropic", model = "claude-up" }]
`,
      join(dir, "providers.toml"),
    ),
  );
  try {
    // Unrouted models go to the default instance as named: the model itself is the client's text.
    const send = (path: string, body: unknown, agent = "claude-cli/2.1.0") =>
      fetch(`${gw.url}${path}`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": clientKey, "user-agent": agent }, body: JSON.stringify(body) });
    const hi = [{ role: "user", content: "hi" }];
    await send("/v1/messages", { model: providerKey, max_tokens: 16, messages: hi });
    await send("/v1/chat/completions", { model: instanceKey, messages: hi });
    await send("/v1/messages", { model: "main", max_tokens: 16, messages: [{ role: clientKey, content: "hi" }] });
    await send("/v1/messages", { model: "main", max_tokens: 16, messages: hi }, clientKey);
    await send(`/v1beta/models/${providerKey}:generateContent`, { contents: [{ role: "user", parts: [{ text: "hi" }] }] });
    const recs = await logRecords(dir, 5);
    // The records are there, the model named (masked) as the client sent it.
    expect(recs.map((r) => r.request.model)).toContain(mask(providerKey));
    expect(recs.flatMap((r) => r.routing.attempts.map((a) => a.model))).toContain(mask(instanceKey));
    const leaks: string[] = [];
    const shown = await Promise.all(["/_gw/api/status", "/metrics"].map(async (p) => [p, await (await fetch(`${gw.url}${p}`)).text()] as const));
    for (const [where, text] of [...filesUnder(join(dir, "logs")).map((f) => [f.slice(dir.length + 1), readFileSync(f, "utf8")] as const), ...shown]) {
      for (const s of [instanceKey, providerKey, clientKey]) if (text.includes(s)) leaks.push(`${mask(s)} in ${where}`);
    }
    expect(leaks).toEqual([]);
  } finally {
    await gw.stop(0);
    await up.stop();
  }
}, 60_000);
