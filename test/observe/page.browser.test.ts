// The status page in a real browser: Debian chromium driven by playwright-core, against a real
// gateway and two `gw mock` child processes. CI (.ci/run) installs chromium; without it this
// test fails with the command that fixes it.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import type { Browser, Page } from "playwright-core";
import type { RunningGateway } from "../../src/lb/server.ts";
import { compact } from "../../src/observe/usage-format.ts";
import { launchChromium, stopPageRig } from "../helpers/browser.ts";
import { configFrom, externalInstances, startTestGateway } from "../helpers/lb.ts";
import { startNginx } from "../helpers/nginx.ts";
import { type SpawnedMock, spawnMock } from "../helpers/mock.ts";
import { removeTempDirs, tempDir } from "../helpers/tmp.ts";

const ROOT = join(import.meta.dir, "../..");
const OUT = join(ROOT, "test-output");
const SLOW = 60_000;

let mocks: SpawnedMock[] = [];
let gateway: RunningGateway;
let base: string;
let browser: Browser | undefined;

beforeAll(async () => {
  mocks = await Promise.all([spawnMock(["--api-key", "key-a", "--name", "a"]), spawnMock(["--api-key", "key-b", "--name", "b"])]);
  const config = configFrom(`
[global]
host = "127.0.0.1"
main_port = 8145
${externalInstances({ a: mocks[0]!.url, b: mocks[1]!.url })}
[routing]
"opus" = [
  { instance = "a", provider = "anthropic", model = "claude-opus-4-6", weight = 3 },
  { instance = "b", provider = "anthropic", model = "claude-opus-4-6", weight = 1 },
]
"flash" = [{ instance = "b", provider = "anthropic", model = "gemini-3-flash" }]
"broken" = [{ instance = "b", provider = "anthropic", model = "gemini-3-flash~400" }]

[pricing]
"opus" = { input = 15, output = 75, cache_read = 1.5, cache_write = 18.75 }
`, join(tempDir("gw-page-"), "providers.toml"));
  // The gateway serves the page, /metrics and the data itself, and records every request it proxies.
  gateway = startTestGateway(config);
  base = gateway.url;
  const obs = gateway.observe;
  // What `gw up` hands over (src/supervisor/live.ts): the supervisor's rows and the LB's cooldowns.
  // Here the mocks' processes stand for the rows, and one cooldown is set as the state store would.
  const coolingUntil = Date.now() + 30 * 60_000;
  obs.setLive(() => ({
    instances: mocks.map((m, i) => ({ name: i ? "b" : "a", state: m.proc.exitCode === null ? "ready" : "failed", restarts: i, uptimeMs: 42_000 + i * 1000 })),
    cooling: [
      { route: "opus", target: "b/claude-opus-4-6", until: coolingUntil, kind: "transient_heavy", reason: "429 model_cooldown" },
      { route: "flash", target: "b/gemini-3-flash", until: coolingUntil, kind: "signature", reason: "400 invalid signature" },
      { route: "broken", target: "b/gemini-3-flash~400", until: Date.now() - 1000, kind: "signature", reason: "400 invalid signature", halfOpen: true },
    ],
  }));
  // rebind.test resolves to this machine: what a DNS-rebinding attacker arranges for its own name.
  // Local Network Access off: a browser without it (Firefox, an older Chrome) lets a rebinding
  // page's fetch reach loopback, and then only gw's Host check stands in its way.
  browser = await launchChromium(["--host-resolver-rules=MAP rebind.test 127.0.0.1", "--disable-features=LocalNetworkAccessChecks,PrivateNetworkAccessSendPreflights"]);
}, SLOW);

afterAll(async () => {
  await stopPageRig({ browser, gateway, mocks });
  removeTempDirs();
});

async function traffic(n: number) {
  const client = new Anthropic({ baseURL: base, apiKey: "unused", maxRetries: 0 });
  for (let i = 0; i < n; i++) {
    const model = i % 3 === 2 ? "flash" : "opus";
    await client.messages.create({ model, max_tokens: 64, messages: [{ role: "user", content: `hello ${i}` }] });
  }
  await client.messages.create({ model: "broken", max_tokens: 8, messages: [{ role: "user", content: "x" }] }).catch(() => {});
}

const counter = async (page: Page) => Number(((await page.textContent("#stat-requests")) ?? "").replace(/\D/g, "") || -1);

test(
  "the page shows instances and routes, the request counter moves after traffic, and it fits a phone",
  async () => {
    mkdirSync(OUT, { recursive: true });
    const page = await browser!.newPage({ viewport: { width: 1366, height: 900 } });
    const failures: string[] = [];
    page.on("pageerror", (e) => failures.push(e.message));
    page.on("requestfailed", (r) => failures.push(`${r.url()} ${r.failure()?.errorText}`));
    await page.goto(`${base}/_gw/`);

    await page.locator('[data-instance="a"]').waitFor({ timeout: 20_000 });
    await expect(page.locator('[data-instance="b"]').textContent()).resolves.toContain("ready");
    for (const r of ["opus", "flash", "broken"]) expect(await page.locator(`[data-route="${r}"]`).count()).toBe(1);
    expect(await page.locator('[data-route="opus"] .target').count()).toBe(2);
    await expect(page.locator('[data-route="opus"] .target').nth(1).textContent()).resolves.toMatch(/cooling \d+m \d+s · transient_heavy · 429 model_cooldown/);
    expect(await page.getAttribute('[data-route="opus"] .target:nth-child(3) .dot', "class")).toBe("dot bad");
    // A signature cooldown keeps out signed requests only: the target serves the rest (lb/route.ts cooldownFor).
    await expect(page.locator('[data-route="flash"] .target').textContent()).resolves.toMatch(/cooling \d+m \d+s · signature \(signed requests only\) · 400 invalid signature/);
    expect(await page.getAttribute('[data-route="flash"] .target .dot', "class")).toBe("dot warn");
    // Over, it keeps nothing out: the next signed request is its trial.
    await expect(page.locator('[data-route="broken"] .target').textContent()).resolves.toMatch(/half-open · signature \(the next signed request is its trial\) · 400 invalid signature/);
    await page.waitForFunction(() => /^\d/.test(document.getElementById("stat-requests")?.textContent ?? ""), null, { timeout: 20_000 });
    expect(await page.textContent("#state")).toBe("state: memory");
    // A shared state that does not answer shows in the header, for how long, and that gw goes on.
    gateway.observe.setStateHealth(() => ({ backend: "redis", up: false, where: "redis://10.0.0.5:6379", problem: "Connection closed", downSince: Date.now() - 65_000, downForMs: 65_000 }));
    await page.waitForFunction(() => document.getElementById("state")?.textContent?.includes("down"), null, { timeout: 20_000 });
    expect(await page.textContent("#state")).toMatch(/^state: redis down 1m \d+s · serving from local state$/);
    expect(await page.getAttribute("#state", "title")).toBe("redis://10.0.0.5:6379 — Connection closed");
    // So does a file gw cannot write (a full disk): what, where, why, in the header.
    expect(await page.isHidden("#writes")).toBe(true);
    gateway.observe.setWriteProblems(() => ["cannot write /srv/gw/logs/requests/2026-12-02.jsonl: no space left on the device"]);
    await page.waitForFunction(() => !document.getElementById("writes")?.hidden, null, { timeout: 20_000 });
    expect(await page.textContent("#writes")).toBe("cannot write /srv/gw/logs/requests/2026-12-02.jsonl: no space left on the device");
    gateway.observe.setWriteProblems(() => []);
    await page.waitForFunction(() => document.getElementById("writes")?.hidden, null, { timeout: 20_000 });
    const before = await counter(page);

    await traffic(9);
    await page
      .waitForFunction((n) => Number((document.getElementById("stat-requests")?.textContent ?? "").replace(/\D/g, "")) >= n, before + 10, { timeout: 30_000 })
      .catch(async (e: Error) => {
        throw new Error(`request counter stuck at ${await counter(page)}, expected ${before + 10} after traffic through the gateway: ${e.message}`);
      });
    expect(await counter(page)).toBe(before + 10);
    await page.locator("#errors td.msg").first().waitFor({ timeout: 20_000 }); // the 400 of "broken"
    expect(await page.textContent("#errors td.msg")).toBe("Bad Request"); // the sentence, not the JSON around it
    expect(await page.locator("#chart-rate rect").count()).toBeGreaterThan(0);
    expect(await page.textContent("#tokens")).toContain("opus");
    // Cost as `gw usage` writes it: the API carries the text, one formatter serves both.
    const api = (await (await fetch(`${base}/_gw/api/status`)).json()) as { tokensToday: { total: { cost: string } } };
    expect(await page.textContent("#stat-cost")).toBe(`cost ${api.tokensToday.total.cost}`);
    // Token counts read as gw usage prints them, 999,960 included (not "1000.0k").
    const counts = [12_345, 999_960, 999_994_999, 2_500_000_000];
    expect(await page.evaluate((ns) => ns.map((n) => (window as unknown as { short(n: number): string }).short(n)), counts)).toEqual(counts.map(compact));
    expect(failures).toEqual([]);
    await page.screenshot({ path: join(OUT, "status-page.png"), fullPage: true });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300); // one resize → chart redraw
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0); // nothing wider than a phone screen (tables scroll in their panels)
    await page.screenshot({ path: join(OUT, "status-page-phone.png"), fullPage: true });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: join(OUT, "status-page-phone-dark.png"), fullPage: true });
    if (process.env.GW_SAVE_SCREENSHOT) copyFileSync(join(OUT, "status-page.png"), join(ROOT, "bench", "status-page.png"));
    await page.close();
  },
  SLOW * 2,
);

test(
  "behind a reverse proxy under a path prefix (location /gw/), and at /_gw without its slash, the page finds its data",
  async () => {
    const nginx = await startNginx(`server { listen 127.0.0.1:{{PORT}}; location /gw/ { proxy_pass http://127.0.0.1:${gateway.port}/; } }`, { tls: false });
    const page = await browser!.newPage();
    try {
      for (const url of [`${nginx.url}/gw/_gw/`, `${nginx.url}/gw/_gw`, `${base}/_gw`]) {
        const asked: string[] = [];
        page.on("request", (r) => asked.push(new URL(r.url()).pathname));
        await page.goto(url);
        await page.locator('[data-instance="a"]').waitFor({ timeout: 20_000 });
        expect([url, asked.filter((p) => p.endsWith("/api/status"))[0]]).toEqual([url, `${new URL(url).pathname.replace(/\/?$/, "/")}api/status`]);
        page.removeAllListeners("request");
      }
    } finally {
      await page.close();
      await nginx.stop();
    }
  },
  SLOW,
);

test(
  "a page on another origin can neither read gw's data nor use its accounts; a rebinding name gets nothing",
  async () => {
    // The attacker's page: any origin other than gw's own (here: another port of this machine).
    const evil = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("<!doctype html><title>elsewhere</title>", { headers: { "content-type": "text/html" } }) });
    const page = await browser!.newPage();
    try {
      await page.goto(evil.url.href);
      const requestsBefore = gateway.stats().requests;
      const tries = await page.evaluate(async (gw) => {
        const read = async (url: string, init?: RequestInit) => {
          try {
            const r = await fetch(url, init);
            return `read ${r.status}: ${(await r.text()).slice(0, 80)}`;
          } catch (e) {
            return `blocked (${(e as Error).name})`;
          }
        };
        const body = JSON.stringify({ model: "opus", max_tokens: 8, messages: [{ role: "user", content: "spend their quota" }] });
        return {
          status: await read(`${gw}/_gw/api/status`),
          metrics: await read(`${gw}/metrics`),
          messages: await read(`${gw}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body }),
          simplePost: await read(`${gw}/v1/messages`, { method: "POST", headers: { "content-type": "text/plain" }, body }),
          noCors: await read(`${gw}/v1/messages`, { method: "POST", mode: "no-cors", body }),
        };
      }, base);
      expect(tries).toEqual({ status: "blocked (TypeError)", metrics: "blocked (TypeError)", messages: "blocked (TypeError)", simplePost: "blocked (TypeError)", noCors: "read 0: " });
      // Refused before the pipeline: nothing was proxied, nothing counted as a request.
      expect(gateway.stats().requests).toBe(requestsBefore);

      // DNS rebinding: the attacker's own name now points here, so its page is same-origin with
      // what it fetches — only the Host check stands between it and the data.
      const rebound = `http://rebind.test:${gateway.port}`;
      const nav = await page.goto(`${rebound}/_gw/`);
      expect(nav?.status()).toBe(403);
      // The attacker's page under that name, as its own server gave it before the name moved
      // (gw's refusal above is no page to run a script in: it is sandboxed).
      await page.route(`${rebound}/innocent`, (r) => r.fulfill({ contentType: "text/html", body: "<title>innocent</title>" }));
      await page.goto(`${rebound}/innocent`);
      const data = await page.evaluate(async (u) => {
        const r = await fetch(u);
        return { status: r.status, text: await r.text() };
      }, `${rebound}/_gw/api/status`);
      expect(data.status).toBe(403);
      expect(data.text).not.toContain("claude-opus");
      expect(gateway.stats().requests).toBe(requestsBefore);
    } finally {
      await page.close();
      evil.stop(true);
    }
  },
  SLOW,
);

test(
  "with a script's hundreds of routes the page lists those with traffic or trouble and the costliest token rows; the rest on demand",
  async () => {
    const many = Array.from({ length: 60 }, (_, i) => `"r${i}" = [{ instance = "${i % 2 ? "a" : "b"}", provider = "anthropic", model = "claude-sonnet-4-6" }]`);
    const config = configFrom(`[global]\nhost = "127.0.0.1"\nmain_port = 8145\n${externalInstances({ a: mocks[0]!.url, b: mocks[1]!.url })}\n[routing]\n${many.join("\n")}\n`, join(tempDir("gw-page-many-"), "providers.toml"));
    const big = startTestGateway(config);
    // r50 has no traffic but a cooling target: trouble is shown whatever the traffic.
    big.observe.setLive(() => ({ instances: [], cooling: [{ route: "r50", target: "b/claude-sonnet-4-6", until: Date.now() + 600_000, kind: "transient", reason: "503" }] }));
    const page = await browser!.newPage({ viewport: { width: 1366, height: 900 } });
    try {
      const client = new Anthropic({ baseURL: big.url, apiKey: "unused", maxRetries: 0 });
      // r0…r11: twelve routes with tokens, r11 the costliest (longest prompt).
      for (let i = 0; i < 12; i++) await client.messages.create({ model: `r${i}`, max_tokens: 16, messages: [{ role: "user", content: "word ".repeat(1 + i * 40) }] });
      await page.goto(`${big.url}/_gw/`);
      await page.locator('[data-route="r0"]').waitFor({ timeout: 20_000 });
      const shown = await page.locator("#routes .route").evaluateAll((els) => els.map((e) => e.getAttribute("data-route")));
      expect(shown).toEqual([...Array.from({ length: 12 }, (_, i) => `r${i}`), "r50"]); // in config order
      expect(await page.textContent("#routes-sub")).toBe("60 routes · 13 with traffic or trouble shown");
      expect(await page.textContent("#routes-all")).toBe("show all 60");
      // Ten token rows, costliest first, then one row for the rest, then the total.
      const rows = await page.locator("#tokens tr td:first-child").allTextContents();
      expect(rows.slice(0, 12)).toEqual(["r11", "r10", "r9", "r8", "r7", "r6", "r5", "r4", "r3", "r2", "2 other routes", "total"]);
      await page.click("#routes-all");
      expect(await page.locator("#routes .route").count()).toBe(60);
      expect(await page.textContent("#routes-all")).toBe("show fewer");
      await page.click("#routes-all");
      expect(await page.locator("#routes .route").count()).toBe(13);
    } finally {
      await page.close();
      await big.stop(0);
    }
  },
  SLOW,
);
