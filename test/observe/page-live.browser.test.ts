// What the status page says about gw and its routes, in a real browser (Debian chromium via
// playwright-core) against a real gateway on loopback: it stops looking live when gw stops
// answering; its first-byte card is the last minute's median request; route cards give each
// target its share of the tier that serves and the state of its instance; and it reads on a
// phone, with long names, for a screen reader, and while text in it is selected.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import type { Browser } from "playwright-core";
import type { RunningGateway } from "../../src/lb/server.ts";
import { launchChromium, stopPageRig } from "../helpers/browser.ts";
import { configFrom, externalInstances, startTestGateway } from "../helpers/lb.ts";
import { type MockServer, startMock } from "../helpers/mock.ts";
import { record } from "../helpers/observe.ts";
import { removeTempDirs, tempDir } from "../helpers/tmp.ts";

const SLOW = 60_000;
let mocks: MockServer[] = [];
let gateway: RunningGateway;
let browser: Browser | undefined;

beforeAll(async () => {
  mocks = [startMock({ name: "alpha", apiKeys: ["key-alpha"] }), startMock({ name: "beta", apiKeys: ["key-beta"] })];
  const toml = `[global]\nhost = "127.0.0.1"\nmain_port = 8145\n${externalInstances({ alpha: mocks[0]!.url, beta: mocks[1]!.url })}
[routing]
"m" = [{ instance = "alpha", provider = "anthropic", model = "m" }]
"tiered" = [
  { instance = "alpha", provider = "anthropic", model = "m", priority = 1 },
  { instance = "beta", provider = "anthropic", model = "m", priority = 0 },
]
"spread" = [
  { instance = "alpha", provider = "anthropic", model = "m", weight = 3 },
  { instance = "beta", provider = "anthropic", model = "m", weight = 1 },
]
`;
  gateway = startTestGateway(configFrom(toml, join(tempDir("gw-page-live-"), "providers.toml")));
  browser = await launchChromium();
}, SLOW);

afterAll(async () => {
  await stopPageRig({ browser, gateway, mocks });
  removeTempDirs();
});

test(
  "a gw that stops answering (hung, or gone) greys the page out and says since when, instead of showing it live",
  async () => {
    const page = await browser!.newPage();
    try {
      await page.goto(`${gateway.url}/_gw/`);
      await page.locator('[data-route="m"]').waitFor({ timeout: 20_000 });
      expect(await page.evaluate(() => document.body.classList.contains("stale"))).toBe(false);
      // Hung: the polls get no answer at all (a SIGSTOPped gw, a network gone without a reset).
      await page.route("**/api/status", () => {});
      await page.waitForFunction(() => document.body.classList.contains("stale"), null, { timeout: 15_000 });
      expect(await page.textContent("#live-text")).toMatch(/^offline \(no answer in 5 s\) · data from \d\d:\d\d:\d\d$/);
      expect(await page.evaluate(() => getComputedStyle(document.querySelector("main")!).opacity)).toBe("0.45");
      // Back: live again, nothing greyed out.
      await page.unroute("**/api/status");
      await page.waitForFunction(() => !document.body.classList.contains("stale"), null, { timeout: 15_000 });
      expect(await page.textContent("#live-text")).toMatch(/^live · /);
      // Gone: the connection is refused.
      await page.route("**/api/status", (r) => r.abort("connectionrefused"));
      await page.waitForFunction(() => document.body.classList.contains("stale"), null, { timeout: 15_000 });
      expect(await page.textContent("#live-text")).toMatch(/^offline \(.*\) · data from \d\d:\d\d:\d\d$/);
    } finally {
      await page.close();
    }
  },
  SLOW,
);

test(
  "First byte · p50 is the median of the last minute's requests, not of its 5-second buckets' medians",
  async () => {
    // 20 fast requests in one bucket, then one slow one in each of the next two: the median request is fast.
    await Bun.sleep(5_000 - (Date.now() % 5_000) + 100);
    for (let i = 0; i < 20; i++) gateway.observe.record(record({ route: "m", ttfb: 100 }));
    await Bun.sleep(5_000);
    gateway.observe.record(record({ route: "m", ttfb: 3_000 }));
    await Bun.sleep(5_000);
    gateway.observe.record(record({ route: "m", ttfb: 3_000 }));
    const page = await browser!.newPage();
    try {
      await page.goto(`${gateway.url}/_gw/`);
      await page.waitForFunction(() => document.getElementById("stat-ttfb")?.textContent !== "–", null, { timeout: 20_000 });
      expect(await page.textContent("#stat-ttfb")).toBe("100 ms");
    } finally {
      await page.close();
    }
  },
  SLOW,
);

test(
  "a route's shares are within the priority tier that serves, lower tiers marked fallback; a target on a dead instance shows it",
  async () => {
    const page = await browser!.newPage();
    const meta = (route: string, i: number) => page.locator(`[data-route="${route}"] .target .meta`).nth(i).textContent();
    const dot = (route: string, i: number) => page.locator(`[data-route="${route}"] .target .dot`).nth(i).getAttribute("class");
    try {
      gateway.observe.setLive(() => ({ instances: [{ name: "alpha", state: "ready", restarts: 0, uptimeMs: 1000 }, { name: "beta", state: "ready", restarts: 0, uptimeMs: 1000 }], cooling: [] }));
      await page.goto(`${gateway.url}/_gw/`);
      await page.locator('[data-route="tiered"]').waitFor({ timeout: 20_000 });
      // lb/route.ts sends every request to alpha (priority 1): beta (priority 0) waits as fallback.
      expect([await meta("tiered", 0), await meta("tiered", 1)]).toEqual(["weight 1 · 100 %priority 1", "weight 1 · fallback"]);
      expect(await page.locator('[data-route="tiered"] .weight b').nth(1).getAttribute("style")).toBe("width:0.0%");
      expect([await meta("spread", 0), await meta("spread", 1)]).toEqual(["weight 3 · 75 %", "weight 1 · 25 %"]);
      expect([await dot("spread", 0), await dot("spread", 1)]).toEqual(["dot ok", "dot ok"]);

      // beta crashloops: its targets show it in red and take no share; alpha is the whole route.
      gateway.observe.setLive(() => ({ instances: [{ name: "alpha", state: "ready", restarts: 0, uptimeMs: 1000 }, { name: "beta", state: "crashloop", restarts: 9, uptimeMs: null }], cooling: [] }));
      await page.waitForFunction(() => document.querySelector('[data-route="spread"]')?.textContent?.includes("crashloop"), null, { timeout: 20_000 });
      expect([await meta("spread", 0), await meta("spread", 1)]).toEqual(["weight 3 · 100 %", "weight 1 · 0 %instance crashloop"]);
      expect([await dot("spread", 0), await dot("spread", 1)]).toEqual(["dot ok", "dot bad"]);
      // alpha down too: the top tier is the one tried first, nothing shares anything.
      gateway.observe.setLive(() => ({ instances: [{ name: "alpha", state: "down", restarts: 0, uptimeMs: null }, { name: "beta", state: "crashloop", restarts: 9, uptimeMs: null }], cooling: [] }));
      await page.waitForFunction(() => document.querySelector('[data-route="tiered"]')?.textContent?.includes("instance down"), null, { timeout: 20_000 });
      expect([await meta("tiered", 0), await meta("tiered", 1)]).toEqual(["weight 1 · 0 %priority 1instance down", "weight 1 · fallbackinstance crashloop"]);
    } finally {
      await page.close();
      gateway.observe.setLive(() => ({ instances: [], cooling: [] }));
    }
  },
  SLOW,
);

test(
  "a phone with a 128-character route, over 24 busy routes: nothing overflows, the heading says how many are hidden, axis labels keep their .5, text stays selected across polls",
  async () => {
    const long = "r".repeat(120) + "-xxxxxxx";
    const z = Array.from({ length: 30 }, (_, i) => `"z${i}" = [{ instance = "alpha", provider = "anthropic", model = "m" }]`);
    const toml = `[global]\nhost = "127.0.0.1"\nmain_port = 8145\n${externalInstances({ alpha: mocks[0]!.url })}\n[routing]\n"${long}" = [{ instance = "alpha", provider = "anthropic", model = "m" }]\n${z.join("\n")}\n`;
    const busy = startTestGateway(configFrom(toml, join(tempDir("gw-page-busy-"), "providers.toml")));
    // z20…z29 cooling: trouble, with no traffic.
    const cooling = Array.from({ length: 10 }, (_, i) => ({ route: `z${20 + i}`, target: "alpha/m", until: Date.now() + 600_000, kind: "transient", reason: "503" }));
    busy.observe.setLive(() => ({ instances: [{ name: "alpha", state: "ready", restarts: 0, uptimeMs: 1000 }], cooling }));
    const page = await browser!.newPage({ viewport: { width: 390, height: 844 } });
    try {
      // 25 requests in one 5-second bucket: the chart's scale is 25, its middle line 12.5.
      await Bun.sleep(5_000 - (Date.now() % 5_000) + 100);
      const client = new Anthropic({ baseURL: busy.url, apiKey: "unused", maxRetries: 0 });
      for (let i = 0; i < 5; i++) await client.messages.create({ model: long, max_tokens: 16, messages: [{ role: "user", content: "hi" }] });
      for (let i = 0; i < 20; i++) busy.observe.record(record({ route: `z${i}`, attempts: ["alpha/m:200:ok"] }));
      await page.goto(`${busy.url}/_gw/`);
      await page.locator(`[data-route="${long}"]`).waitFor({ timeout: 20_000 });
      await page.locator("#tokens td").first().waitFor({ timeout: 20_000 });
      expect(await page.textContent("#routes-sub")).toBe("31 routes · 24 of 31 with traffic or trouble shown");
      expect(await page.locator("#chart-rate text").allTextContents()).toContain("12.5");
      expect(await page.getAttribute("#chart-rate svg", "aria-label")).toMatch(/^Requests per 5 seconds/);
      expect(await page.getAttribute("#chart-ttfb svg", "aria-label")).toMatch(/^Time to first byte/);
      // Nothing wider than its box: the route card's name is cut with an ellipsis (the whole in its
      // title), the token table keeps its numbers on screen.
      const fits = await page.evaluate((name) => {
        const card = document.querySelector(`[data-route="${name}"]`)!;
        const tokens = document.getElementById("tokens")!;
        return { card: card.scrollWidth <= card.clientWidth, tokens: tokens.offsetWidth <= tokens.parentElement!.clientWidth, title: card.querySelector("h3 b")?.getAttribute("title") };
      }, long);
      expect(fits).toEqual({ card: true, tokens: true, title: long });
      // Warning text (a cooldown) in a colour that reads on white (≥ 4.5:1), not the dot's orange.
      expect(await page.locator(".target .meta .cool").first().evaluate((e) => getComputedStyle(e).color)).toBe("rgb(181, 71, 8)");
      // A selection in a table survives the polls (unchanged tables are not rewritten).
      await page.evaluate(() => {
        const range = document.createRange();
        range.selectNodeContents(document.querySelector('[data-instance="alpha"] td')!);
        getSelection()!.removeAllRanges();
        getSelection()!.addRange(range);
      });
      await page.waitForTimeout(4_500);
      expect(await page.evaluate(() => getSelection()!.toString())).toBe("alpha");
    } finally {
      await page.close();
      await busy.stop(0);
    }
  },
  SLOW,
);
