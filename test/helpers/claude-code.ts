// The real Claude Code (npm @anthropic-ai/claude-code, a devDependency) through cld and a real
// gw whose instances are `gw mock`: a throwaway HOME, nothing beyond loopback.
//
// Claude Code runs through its package's own launcher with this machine's node; set
// GW_TEST_CLAUDE=/path/to/claude to test another installed version (the report names both).
import { existsSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RequestRecord } from "../../src/observe/record.ts";
import { readRequestLog } from "./resilience.ts";
import { killAll, type RunningGw, type Sandbox, sandbox, startGw, until } from "./supervisor.ts";

const PACKAGE = join(import.meta.dir, "../../node_modules/@anthropic-ai/claude-code");

/** Write `DIR/claude`, the command cld finds on PATH; returns how it runs Claude Code. */
export function installClaudeCode(dir: string): string {
  const claude = join(dir, "claude");
  const other = process.env.GW_TEST_CLAUDE;
  if (other) {
    symlinkSync(other, claude); // a link, as npm makes one: cld reads the version from the install
    return other;
  }
  const node = Bun.which("node");
  const wrapper = join(PACKAGE, "cli-wrapper.cjs");
  if (!node || !existsSync(wrapper)) throw new Error("node and the @anthropic-ai/claude-code devDependency are needed (bun install)");
  writeFileSync(claude, `#!/bin/sh\nexec '${node}' '${wrapper}' "$@"\n`, { mode: 0o755 });
  return `node ${wrapper}`;
}

/** The version `claude --version` reports, e.g. "2.1.332". */
export async function claudeCodeVersion(claude: string): Promise<string> {
  const p = Bun.spawn([claude, "--version"], { stdout: "pipe", stderr: "ignore", stdin: "ignore" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  return /(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? "unknown";
}

export interface MockGateway {
  readonly sb: Sandbox;
  readonly gw: RunningGw;
  readonly file: string;
  readonly url: string;
  /**
   * A mark for waitForRequests: now, as the request log writes times. A record is written when its
   * answer ends, so a request of an earlier test can land in the log after this mark; its arrival
   * time (`ts`) cannot.
   */
  mark(): string;
  /** Wait until the requests that arrived from `since` on hold at least `count` matching `pick`; returns all of them. */
  waitForRequests(o: { since: string; count?: number; pick?: (r: RequestRecord) => boolean; timeoutMs?: number }): Promise<RequestRecord[]>;
  /** A sample of /metrics (0 when absent). */
  metric(name: string, labels: string): Promise<number>;
  stop(): Promise<void>;
}

/** Routes the Claude Code tests use: a Claude main route, a cheap fast one, a 1M Gemini one. */
const ROUTES = `
"opus4.6" = [{ instance = "a", provider = "antigravity", model = "claude-opus-4-6-thinking" }]
"g3f" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }]
"g3p" = [{ instance = "b", provider = "antigravity", model = "gemini-3-pro-high", context_window = 1048576 }]
`;

/**
 * `gw up` on free ports with two `gw mock` instances and ROUTES (and `routes`, more lines of the
 * routing table, each ending in a newline), api_keys set; `graceMs`: shutdown_grace_ms (the sandbox's 15 s).
 */
export async function startMockGateway(key: string, o: { graceMs?: number; routes?: string } = {}): Promise<MockGateway> {
  const sb = await sandbox([{ name: "a" }, { name: "b" }]);
  const file = join(sb.dir, "gw.toml");
  let toml = (await Bun.file(sb.file).text()).replace("[global]\n", `[global]\napi_keys = ["${key}"]\n`).replace(/\[routing\][\s\S]*$/, `[routing]\n${ROUTES}${o.routes ?? ""}`);
  if (o.graceMs !== undefined) toml = toml.replace(/^shutdown_grace_ms = \d+$/m, `shutdown_grace_ms = ${o.graceMs}`);
  writeFileSync(file, toml);
  const gw = startGw(sb, ["up", "-c", file]);
  try {
    await gw.waitFor(/serving on http:\/\/\S+/, 60_000);
  } catch (e) {
    await killAll(sb, gw);
    throw e;
  }
  const url = `http://127.0.0.1:${sb.mainPort}`;
  return {
    sb,
    gw,
    file,
    url,
    mark: () => new Date().toISOString(),
    async waitForRequests({ since, count = 1, pick = () => true, timeoutMs = 30_000 }) {
      let after: RequestRecord[] = [];
      // ISO-8601 UTC times of one length compare as strings.
      const enough = () => (after = readRequestLog(sb.dir).filter((r) => r.ts >= since)).filter(pick).length >= count;
      await until(enough, timeoutMs, () => `${count} matching request-log records after ${since} (records after it: ${after.length})`);
      return after;
    },
    async metric(name, labels) {
      const text = await (await fetch(`${url}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}} `));
      return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : 0;
    },
    stop: () => killAll(sb, gw),
  };
}
