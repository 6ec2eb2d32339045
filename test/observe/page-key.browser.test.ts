// The status page's admin key and its liveness in a real browser (Debian chromium via
// playwright-core), against a real gateway behind a real nginx that logs every request as a team
// server's does: the key is taken out of the address bar and never reaches the proxy's log with
// the polls.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import type { RunningGateway } from "../../src/lb/server.ts";
import { launchChromium } from "../helpers/browser.ts";
import { configFrom, externalInstances, startTestGateway } from "../helpers/lb.ts";
import { type MockServer, startMock } from "../helpers/mock.ts";
import { startNginx, type TestNginx } from "../helpers/nginx.ts";
import { removeTempDirs, tempDir } from "../helpers/tmp.ts";

const SLOW = 60_000;
// base64-style, as `openssl rand -base64` writes one: "+" (a space to a form decoder), "/" and "=".
const ADMIN_KEY = "q+Zk/9wT3e+Ra7Lx0b4N=";
let mock: MockServer;
let gateway: RunningGateway;
let nginx: TestNginx;
let accessLog: string;
let browser: Browser | undefined;

beforeAll(async () => {
  mock = startMock({ name: "a", apiKeys: ["key-a"] });
  const dir = tempDir("gw-page-key-");
  gateway = startTestGateway(configFrom(`[global]\nhost = "127.0.0.1"\nmain_port = 8145\nadmin_key = "${ADMIN_KEY}"\n${externalInstances({ a: mock.url })}\n[routing]\n"secret-route" = [{ instance = "a", provider = "anthropic", model = "m" }]\n`, join(dir, "providers.toml")));
  accessLog = join(dir, "access.log");
  // The README's proxy: under a prefix, with X-Forwarded-For (so gw asks for admin_key), its access log on.
  nginx = await startNginx(
    `log_format full '$request "$http_referer" "$http_authorization"'; server { listen 127.0.0.1:{{PORT}}; access_log ${accessLog} full; location /gw/ { proxy_pass http://127.0.0.1:${gateway.port}/; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; } }`,
    { tls: false },
  );
  browser = await launchChromium();
}, SLOW);

afterAll(async () => {
  await browser?.close();
  await nginx?.stop();
  await gateway?.stop(0);
  await mock?.stop();
  removeTempDirs();
});

// The page's requests (nginx's own start-up probe of /healthz aside).
const logLines = () => readFileSync(accessLog, "utf8").split("\n").filter((l) => l.includes(" /gw/"));
const polls = async (page: Page, n: number) => {
  const seen = logLines().filter((l) => l.includes("api/status")).length;
  await page.waitForFunction(() => document.getElementById("live-text")?.textContent?.startsWith("live"), null, { timeout: 20_000 });
  for (let i = 0; i < 50 && logLines().filter((l) => l.includes("api/status")).length < seen + n; i++) await Bun.sleep(200);
};

test(
  "opened with #key= or ?key= behind a proxy: the key leaves the address bar, and the polls carry it in a header, never in a URL or Referer the proxy logs",
  async () => {
    const page = await browser!.newPage();
    try {
      // #key=: the fragment never leaves the browser, so the proxy's log holds the key nowhere.
      await page.goto(`${nginx.url}/gw/_gw/#key=${ADMIN_KEY}`);
      await page.locator('[data-route="secret-route"]').waitFor({ timeout: 20_000 });
      expect(page.url()).toBe(`${nginx.url}/gw/_gw/`);
      await polls(page, 2);
      const lines = logLines();
      expect(lines.filter((l) => l.includes("api/status")).length).toBeGreaterThanOrEqual(2);
      for (const l of lines) expect(l).toMatch(/^GET \/gw\/_gw\/(api\/status)? HTTP\/1\.1 "-" "(-|Bearer .*)"$/);
      expect(lines.filter((l) => l.includes(ADMIN_KEY)).every((l) => l.includes("api/status") && l.endsWith(`"Bearer ${ADMIN_KEY}"`))).toBe(true);
      // A reload of the tab keeps working (the key is kept in the tab's history entry, not the URL).
      await page.reload();
      await page.locator('[data-route="secret-route"]').waitFor({ timeout: 20_000 });
      expect(page.url()).toBe(`${nginx.url}/gw/_gw/`);

      // ?key= (typed as is: its "+" stays a "+") still opens the page; only that first request names it.
      const before = logLines().length;
      await page.goto(`${nginx.url}/gw/_gw/?key=${ADMIN_KEY}`);
      await page.locator('[data-route="secret-route"]').waitFor({ timeout: 20_000 });
      expect(page.url()).toBe(`${nginx.url}/gw/_gw/`);
      await polls(page, 2);
      const after = logLines().slice(before);
      expect(after[0]).toBe(`GET /gw/_gw/?key=${ADMIN_KEY} HTTP/1.1 "-" "-"`);
      for (const l of after.slice(1)) expect(l).toBe(`GET /gw/_gw/api/status HTTP/1.1 "-" "Bearer ${ADMIN_KEY}"`);
    } finally {
      await page.close();
    }
  },
  SLOW,
);

test("the page itself loads without the key and holds no data; the data and /metrics need it, its '+' taken as typed or as %2B", async () => {
  const page = await fetch(`${nginx.url}/gw/_gw/`);
  expect(page.status).toBe(200);
  expect(page.headers.get("referrer-policy")).toBe("no-referrer");
  const html = await page.text();
  for (const secret of ["secret-route", mock.url, ADMIN_KEY]) expect(html).not.toContain(secret);
  for (const path of ["/gw/_gw/api/status", "/gw/metrics"]) {
    expect([path, (await fetch(`${nginx.url}${path}`)).status]).toEqual([path, 403]);
    expect([path, (await fetch(`${nginx.url}${path}?key=${ADMIN_KEY}`)).status]).toEqual([path, 200]);
    expect([path, (await fetch(`${nginx.url}${path}?key=${encodeURIComponent(ADMIN_KEY)}`)).status]).toEqual([path, 200]);
    expect([path, (await fetch(`${nginx.url}${path}?key=${ADMIN_KEY.replaceAll("+", " ")}`)).status]).toEqual([path, 403]);
  }
  const data = await fetch(`${nginx.url}/gw/_gw/api/status`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  expect(data.headers.get("referrer-policy")).toBe("no-referrer");
});
