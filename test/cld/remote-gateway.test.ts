// A team member's laptop: gw runs on a shared server behind nginx with TLS, under a path prefix
// (location /gw/), and the laptop has no providers.toml — only $GW_URL and $GW_API_KEY. The real
// Claude Code answers through https; a wrong key, an address nobody answers at and a certificate
// this machine does not trust each stop cld in one line that says what to fix, the key never shown
// (run as `gw cld`, the line starts with `gw:`).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { claudeCodeVersion, installClaudeCode, type MockGateway, startMockGateway } from "../helpers/claude-code.ts";
import { CldSandbox, closedPort, MAIN, RUN, removeSandboxes } from "../helpers/cld.ts";
import { startNginx, type TestNginx } from "../helpers/nginx.ts";

setDefaultTimeout(240_000); // Claude Code starts in seconds; a shared 2-core machine may be busy
const KEY = "sk-gw-team-bob-0123456789abcdef";
let g: MockGateway;
let nginx: TestNginx;
let gwUrl = "";

beforeAll(async () => {
  g = await startMockGateway(KEY);
  const port = new URL(g.url).port;
  nginx = await startNginx(
    `server { listen 127.0.0.1:{{PORT}} ssl; ssl_certificate {{CERT}}; ssl_certificate_key {{KEY}};
      location /gw/ { proxy_pass http://127.0.0.1:${port}/; proxy_http_version 1.1; proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_buffering off; proxy_read_timeout 600s; } }`,
    { tls: true },
  );
  gwUrl = `${nginx.url}/gw`;
});
afterAll(async () => {
  await nginx?.stop();
  await g?.stop();
  removeSandboxes();
});

const remote = (extra: Record<string, string> = {}) => ({ GW_URL: gwUrl, GW_API_KEY: KEY, NODE_EXTRA_CA_CERTS: nginx.cert, ...extra });

describe("the real Codex", () => {
  const box = new CldSandbox({ noClaude: true });

  test("through https, its CA given as NODE_EXTRA_CA_CERTS (as for Claude Code): it answers, where it retried for ever", async () => {
    const codexBin = join(import.meta.dir, "../../node_modules/.bin");
    const r = await box.run(["codex", "g3f", "exec", "--skip-git-repo-check", "say hi"], { env: { ...remote(), PATH: `${codexBin}:/usr/bin:/bin` }, cmd: RUN });
    expect([r.code, r.stdout]).toEqual([0, expect.stringContaining("Mock answer from instance a, model gemini-3-flash")]);
  });
});

describe("the real Claude Code", () => {
  const box = new CldSandbox({ noClaude: true });
  const PATH = `${box.bin}:/usr/bin:/bin`;
  beforeAll(async () => {
    installClaudeCode(box.bin);
    console.log(`Claude Code ${await claudeCodeVersion(join(box.bin, "claude"))}`);
  });

  test("cld cp opus -p answers through https under /gw/ with only GW_URL and GW_API_KEY set", async () => {
    const r = await box.run(["cp", "opus", "-p", "say hi", "--output-format", "json"], { env: { PATH, ...remote() } });
    expect([r.code, r.code === 0 ? "" : r.stderr]).toEqual([0, ""]);
    const out = JSON.parse(r.stdout) as { result: string; modelUsage: Record<string, { contextWindow: number }> };
    expect(out.result).toContain("Mock answer from instance a, model claude-opus-4-6-thinking");
    expect(out.modelUsage["opus4.6"]!.contextWindow).toBe(200_000); // the window the remote gw listed
    expect(r.stderr).toStartWith(`cld: gw at ${gwUrl} ($GW_URL, no providers.toml): 3 routes\ncld: opus4.6 (200k context) · fast g3f`);
    expect(r.stderr).not.toContain(KEY);
  });

  test("a CA trusted by $SSL_CERT_FILE alone: cld's check and Claude Code both connect", async () => {
    const r = await box.run(["cp", "g3f", "-p", "say hi"], { env: { PATH, ...remote({ NODE_EXTRA_CA_CERTS: "", SSL_CERT_FILE: nginx.cert }) } });
    expect([r.code, r.code === 0 ? "" : r.stderr + r.stdout]).toEqual([0, ""]);
    expect(r.stdout).toContain("Mock answer from instance a, model gemini-3-flash");
  });
});

describe("cld and gw run against a fake agent", () => {
  const box = new CldSandbox({ agents: ["codex"] });

  test("the gateway's routes and key reach the agent by environment only, never its command line", async () => {
    const r = await box.run(["cp", "g3p", "-p", "hi"], { env: remote() });
    expect([r.code, r.stderr]).toEqual([0, `cld: gw at ${gwUrl} ($GW_URL, no providers.toml): 3 routes\ncld: g3p (1049k context) · fast g3f (scenario Performance) · opus opus4.6 (scenario Performance) · ${gwUrl}\n`]);
    expect(r.call!.argv).toEqual(["-p", "hi"]);
    expect(r.call!.env).toMatchObject({ ANTHROPIC_BASE_URL: gwUrl, ANTHROPIC_AUTH_TOKEN: KEY, ANTHROPIC_MODEL: "g3p", CLAUDE_CODE_MAX_CONTEXT_TOKENS: "1048576" });
  });

  test("gw run codex: the same gateway, the key as GW_API_KEY in its environment, the CA in the variable Codex reads", async () => {
    const r = await box.run(["codex", "g3f", "exec", "hi"], { env: remote(), cmd: RUN });
    expect([r.code, r.stderr.split("\n")[0]]).toEqual([0, `gw run codex: gw at ${gwUrl} ($GW_URL, no providers.toml): 3 routes`]);
    expect(r.call!.argv.join(" ")).not.toContain(KEY);
    expect(r.call!.env.GW_API_KEY).toBe(KEY);
    expect(r.call!.env.CODEX_CA_CERTIFICATE).toBe(nginx.cert);
  });


  test("a wrong key: one line naming the variable to fix, the key not shown, no agent started", async () => {
    const wrong = "sk-gw-team-bob-WRONG-0123456789";
    const r = await box.run(["cp", "opus", "-p", "hi"], { env: remote({ GW_API_KEY: wrong }) });
    expect([r.code, r.stderr]).toEqual([1, `gw: the gateway at ${gwUrl} refused the key in $GW_API_KEY (401): set GW_API_KEY to your client key for that gw (one of its [global] api_keys)\n`]);
    expect(r.call).toBeNull();
  });

  test("no key at all: says GW_API_KEY is not set", async () => {
    const r = await box.run(["cp", "opus", "-p", "hi"], { env: remote({ GW_API_KEY: "" }) });
    expect([r.code, r.stderr]).toEqual([1, `gw: the gateway at ${gwUrl} wants a key (401) and $GW_API_KEY is not set: set GW_API_KEY to your client key for that gw (one of its [global] api_keys)\n`]);
  });

  test("nobody at the address: one line, what to check", async () => {
    const url = `https://127.0.0.1:${closedPort()}/gw`;
    const r = await box.run(["cp", "opus", "-p", "hi"], { env: remote({ GW_URL: url }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^gw: cannot reach the gateway at ${url.replaceAll(".", "\\.")} \\(\\w+\\): check \\$GW_URL and that this machine reaches it \\(curl ${url.replaceAll(".", "\\.")}/healthz\\)\\n$`));
    expect(r.call).toBeNull();
  });

  test("a certificate this machine does not trust: says to set NODE_EXTRA_CA_CERTS", async () => {
    const r = await box.run(["cp", "opus", "-p", "hi"], { env: remote({ NODE_EXTRA_CA_CERTS: "" }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^gw: the gateway at \S+ has a TLS certificate this machine does not trust \(\w+\): set NODE_EXTRA_CA_CERTS to its CA certificate \(a PEM file; Claude Code reads it too\)\n$/);
  });

  test("a path that is no gw (the prefix forgotten): says to check the prefix", async () => {
    const r = await box.run(["cp", "opus", "-p", "hi"], { env: remote({ GW_URL: nginx.url }) });
    expect([r.code, r.stderr]).toEqual([1, `gw: ${nginx.url}/v1/models answered 404: check $GW_URL (the path prefix too, if gw sits under one)\n`]);
  });

  test("gw's own 403 (a path that is no API of gw's) is said in its words, not as a refused key", async () => {
    const r = await box.run(["cp", "opus", "-p", "hi"], { env: remote({ GW_URL: `${g.url}/management` }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`gw: the gateway at ${g.url}/management refused the request (403): gw forwards only the model APIs (/v1/…, /v1beta/…), not /management/v1/models\n`);
    expect(r.stderr).not.toContain("refused the key");
  });

  test("a key written into the address is refused before anything is sent, and not echoed", async () => {
    const r = await box.run(["cp", "opus", "-p", "hi"], { env: remote({ GW_URL: `https://bob:${KEY}@127.0.0.1:${nginx.port}/gw` }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`gw: $GW_URL holds a user or key (…//***@127.0.0.1:${nginx.port}): put the key in $GW_API_KEY and only https://HOST[/PREFIX] in $GW_URL\n`);
  });

  test("shell completion offers that gw's routes; one that does not answer gives the built-ins, silently", async () => {
    const complete = [process.execPath, MAIN, "_complete", "--"];
    const r = await box.run(["cld", "cp", ""], { env: remote(), cmd: complete });
    expect([r.stdout, r.stderr]).toEqual(["opus4.6\ng3f\ng3p\n", ""]);
    const down = await box.run(["cld", "cp", ""], { env: remote({ GW_URL: `https://127.0.0.1:${closedPort()}` }), cmd: complete });
    expect([down.stdout, down.stderr]).toEqual(["opus4.6\ng3p\ng3f\ng3p.auto\ng3f.auto\n", ""]);
  });

  test("a key pasted into $GW_URL by mistake is not printed whole", async () => {
    const r = await box.run(["cp", "opus", "-p", "hi"], { env: remote({ GW_URL: KEY }) });
    expect([r.code, r.stderr]).toEqual([1, `gw: $GW_URL is not an address ("sk-gw-…cdef"): set it as https://HOST[:PORT][/PREFIX]\n`]);
  });
});
