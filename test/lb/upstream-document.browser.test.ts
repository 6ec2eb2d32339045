// An upstream that answers with HTML (a relay's error page, or one that serves some) must not
// become a page on gw's own origin: there its script could read the status data and call the
// APIs with the accounts, and a hostile web page only has to send the browser to it (a link, a
// redirect, a hidden iframe). Real chromium, a real gateway, an upstream serving such a page.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import type { RunningGateway } from "../../src/lb/server.ts";
import { launchChromium } from "../helpers/browser.ts";
import { configFrom, externalInstances, startTestGateway, testUpstream, type TestUpstream } from "../helpers/lb.ts";

/** Were it run: marks the title, reads the status data, spends the accounts, tells the page that framed it. */
const PAGE = `<!doctype html><html><head><title>before</title></head><body>
<script>
document.title = "ran";
fetch("/_gw/api/status").then((r) => r.text()).then((t) => {
  parent.postMessage("read " + t.length, "*");
  return fetch("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "spent" }] }) });
});
</script></body></html>`;

let upstream: TestUpstream;
let gw: RunningGateway;
let browser: Browser;
let attacker: ReturnType<typeof Bun.serve>;

beforeAll(async () => {
  upstream = testUpstream((req) => (new URL(req.url).pathname.startsWith("/v1/html") ? new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } }) : Response.json({ ok: true })));
  gw = startTestGateway(configFrom(`[global]\nmain_port = 8145\nhost = "127.0.0.1"\n${externalInstances({ a: upstream.url })}\n[routing]\n"m" = [{ instance = "a", provider = "anthropic", model = "x" }]\n`));
  // A page elsewhere that frames gw's URL and listens for what the framed page says.
  attacker = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () =>
      new Response(`<!doctype html><title>attacker</title><script>addEventListener("message", (e) => (document.title = "got " + e.data));</script><iframe src="${gw.url}/v1/html/x"></iframe>`, { headers: { "content-type": "text/html" } }),
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  attacker?.stop(true);
  await gw?.stop(0);
  await upstream?.stop();
});

const spent = () => upstream.seen.filter((s) => s.method === "POST");

test("an upstream's answer is never a document: nosniff, and a sandbox that runs nothing and is framed nowhere", async () => {
  const res = await fetch(`${gw.url}/v1/html/x`);
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("content-security-policy")).toBe("sandbox; default-src 'none'; frame-ancestors 'none'");
  await res.text();
  const api = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", messages: [] }) });
  expect(api.headers.get("content-security-policy")).toContain("sandbox");
  await api.text();
});

test("sent to it by a link or a redirect: the page's script does not run, nothing is read or spent", async () => {
  const before = spent().length;
  const page = await browser.newPage();
  try {
    const blocked: string[] = [];
    page.on("console", (m) => blocked.push(m.text()));
    await page.goto(`${gw.url}/v1/html/x`, { waitUntil: "load" });
    expect(await page.title()).toBe("before");
    expect(await page.evaluate(() => document.title).catch(() => "no script here")).not.toBe("ran");
    expect(spent().length).toBe(before);
  } finally {
    await page.close();
  }
});

test("framed by a page elsewhere: not shown, so it tells that page nothing and spends nothing", async () => {
  const before = spent().length;
  const page = await browser.newPage();
  try {
    await page.goto(attacker.url.href, { waitUntil: "load" });
    // the frame's request went out (the upstream saw the GET); what came back is not rendered
    expect(upstream.seen.some((s) => s.method === "GET" && s.path === "/v1/html/x")).toBe(true);
    const framed = page.frames().find((f) => f !== page.mainFrame())!;
    // Run, its script would have set the title before the frame's load event, which goto waited for.
    const shown = await framed.evaluate(() => `${location.href} ${document.title}`).catch((e: Error) => `no document: ${e.message}`);
    expect(shown).toStartWith("chrome-error://"); // refused as a frame: the browser's own error page, not gw's origin
    expect(shown).not.toContain("ran");
    expect(await page.title()).toBe("attacker");
    expect(spent().length).toBe(before);
  } finally {
    await page.close();
  }
});
