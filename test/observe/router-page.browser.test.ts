// The status page's router panel in a real browser (Debian chromium via playwright-core): after
// `auto` traffic through the gateway it lists the recent decisions and their counts; a config
// without a router shows no panel (its API field is null).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import type { Browser } from "playwright-core";
import type { RunningGateway } from "../../src/lb/server.ts";
import { launchChromium, stopPageRig } from "../helpers/browser.ts";
import { configFrom, externalInstances, startTestGateway } from "../helpers/lb.ts";
import { type MockServer, startMock } from "../helpers/mock.ts";
import { tempDir } from "../helpers/tmp.ts";
import { body, ROUTER_ROUTES, routerTable } from "../lb/router/fixture.ts";

const SLOW = 60_000;
let mocks: MockServer[] = [];
let gateway: RunningGateway;
let browser: Browser | undefined;

beforeAll(async () => {
  mocks = [startMock({ name: "cheap", apiKeys: ["key-cheap"] }), startMock({ name: "strong", apiKeys: ["key-strong"] })];
  const toml = `[global]\nhost = "127.0.0.1"\nmain_port = 8145\n${routerTable()}\n${externalInstances({ cheap: mocks[0]!.url, strong: mocks[1]!.url })}\n[routing]\n${ROUTER_ROUTES}`;
  gateway = startTestGateway(configFrom(toml, join(tempDir("gw-router-page-"), "providers.toml")));
  browser = await launchChromium();
}, SLOW);

afterAll(async () => {
  await stopPageRig({ browser, gateway, mocks });
});

test(
  "recent router decisions and their counts appear after auto traffic",
  async () => {
    const client = new Anthropic({ baseURL: gateway.url, apiKey: "unused", maxRetries: 0 });
    for (const text of ["Implement the parser", "hi", "tell me a joke"]) {
      const b = body("auto", text) as unknown as Anthropic.MessageCreateParamsNonStreaming;
      await client.messages.create(b);
    }
    const page = await browser!.newPage({ viewport: { width: 1366, height: 900 } });
    const failures: string[] = [];
    page.on("pageerror", (e) => failures.push(e.message));
    await page.goto(`${gateway.url}/_gw/`);
    await page.locator("#router td", { hasText: "category_hit_coding" }).waitFor({ timeout: 20_000 });
    const rows = await page.locator("#router tr").allTextContents();
    expect(rows.slice(1, 4).map((r) => r.replace(/^\d\d:\d\d:\d\d/, ""))).toEqual([
      expect.stringMatching(/^autodefault_modelM2\.5M2\.5200$/),
      expect.stringMatching(/^autocategory_hit_quickM2\.5M2\.5200$/),
      expect.stringMatching(/^autocategory_hit_codingsonnet4\.6sonnet4\.6200$/),
    ]);
    expect(await page.textContent("#router-sub")).toBe("on · auto, auto-canary");
    expect(await page.textContent("#router-counts")).toContain("category_hit_coding 1");
    expect(failures).toEqual([]);
    await page.close();
  },
  SLOW,
);

test("without [global.lb_model_router] the API says null and the panel stays hidden", async () => {
  const plain = startTestGateway(configFrom(`[global]\nhost = "127.0.0.1"\nmain_port = 8145\n${externalInstances({ a: mocks[0]!.url })}\n[routing]\n"m" = [{ instance = "a", provider = "anthropic", model = "m" }]\n`, join(tempDir(), "providers.toml")));
  try {
    expect(((await (await fetch(`${plain.url}/_gw/api/status`)).json()) as { router: unknown }).router).toBeNull();
    const page = await browser!.newPage();
    await page.goto(`${plain.url}/_gw/`);
    await page.locator('[data-route="m"]').waitFor({ timeout: 20_000 });
    expect(await page.locator("#router-panel").isHidden()).toBe(true);
    await page.close();
  } finally {
    await plain.stop(0);
  }
}, SLOW);
