// Debian's chromium under playwright-core, headless and quiet, for the status page tests. Without
// it the test fails with the command that installs it (.ci/run does).
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";

/** `extraArgs`: more chromium flags, e.g. a `--host-resolver-rules` that maps a name to loopback. */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get update && apt-get install -y chromium (.ci/run does this)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [...extraArgs, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** A page test file's end: its browser, then the gateway it watched, then the mocks behind it. */
export async function stopPageRig(r: { browser: Browser | undefined; gateway: { stop(graceMs: number): Promise<unknown> } | undefined; mocks: readonly { stop(): unknown }[] }): Promise<void> {
  await r.browser?.close();
  await r.gateway?.stop(0);
  await Promise.all(r.mocks.map((m) => m.stop()));
}
