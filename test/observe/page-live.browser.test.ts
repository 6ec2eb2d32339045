// What the status page says about gw and its routes, in a real browser (Debian chromium via
// playwright-core) against a real gateway on loopback: it stops looking live when gw stops
// answering; its first-byte card is the last minute's median request.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import type { RunningGateway } from "../../src/lb/server.ts";
import { launchChromium } from "../helpers/browser.ts";
import { configFrom, externalInstances, startTestGateway } from "../helpers/lb.ts";
import { type MockServer, startMock } from "../helpers/mock.ts";
import { record } from "../helpers/observe.ts";
import { removeTempDirs, tempDir } from "../helpers/tmp.ts";

const SLOW = 60_000;
let mocks: MockServer[] = [];
let gateway: RunningGateway;
let browser: Browser | undefined;

beforeAll(async () => {
  mocks = [startMock({ name: "alpha", apiKeys: ["key-a"] }), startMock({ name: "beta", apiKeys: ["key-b"] })];
  const toml = `[global]\nhost = "127.0.0.1"\nmain_port = 8145\n${externalInstances({ alpha: mocks[0]!.url, beta: mocks[1]!.url })}
[routing]
"m" = [{ instance = "alpha", provider = "anthropic", model = "m" }]
`;
  gateway = startTestGateway(configFrom(toml, join(tempDir("gw-page-live-"), "providers.toml")));
  browser = await launchChromium();
}, SLOW);

afterAll(async () => {
  await browser?.close();
  await gateway?.stop(0);
  await Promise.all(mocks.map((m) => m.stop()));
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
