// buildStatus + formatStatus: the rows, the per-instance counters and the cooling column, from
// a gateway handle that exposes its cooldowns.
import { expect, test } from "bun:test";
import { type Config, parseConfig } from "../../src/config/index.ts";
import type { Gateway } from "../../src/lb/server.ts";
import type { CoolingEntry } from "../../src/state/index.ts";
import { formatStatus, stateLine } from "../../src/supervisor/format.ts";
import { InstanceSet } from "../../src/supervisor/instances.ts";
import { buildStatus, type GatewayExtras } from "../../src/supervisor/status.ts";
import { DEFAULT_TIMING } from "../../src/supervisor/timing.ts";

const TOML = `
[global]
main_port = 8145
host = "127.0.0.1"
[instances.a]
port = 8146
providers = [{ type = "antigravity" }]
[instances.ext]
url = "http://127.0.0.1:9000"
api_key = "k"
providers = [{ type = "codex" }]
[routing]
"g3f" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }, { instance = "ext", provider = "codex", model = "gpt-5" }]
"g3p" = [{ instance = "a", provider = "antigravity", model = "gemini-3-pro" }, { instance = "ext", provider = "codex", model = "gpt-5" }]
`;

/** A set that was never started: every managed instance "stopped". */
function idleSet(config: Config): InstanceSet {
  const noop = () => {};
  return new InstanceSet(config, { timing: DEFAULT_TIMING, env: {}, log: { info: noop, warn: noop, error: noop }, logFile: () => "/dev/null", childrenChanged: noop });
}

test("status rows carry counters and cooling targets per instance; external instances are listed too", () => {
  const { config } = parseConfig(TOML, "/srv/gw/providers.toml");
  const now = 1_000_000;
  const cooling: CoolingEntry[] = [
    { route: "g3f", target: "a/gemini-3-flash", kind: "quota", reason: "429", until: now + 42_000, setAt: now - 1000, halfOpen: false },
    // A thinking-signature cooldown keeps out signed requests only (lb/route.ts cooldownFor): said so;
    // once over it keeps nothing out, and the next signed request is its trial.
    { route: "g3f", target: "ext/gpt-5", kind: "signature", reason: "400 invalid signature", until: now - 1000, setAt: now - 121_000, halfOpen: true },
    { route: "g3p", target: "ext/gpt-5", kind: "signature", reason: "400 invalid signature", until: now + 5_000, setAt: now - 115_000, halfOpen: false },
    { route: "g3p", target: "a/gemini-3-pro", kind: "transient", reason: "503", until: now - 1000, setAt: now - 61_000, halfOpen: true },
  ];
  const gateway: GatewayExtras = {
    url: "http://127.0.0.1:8145",
    port: 8145,
    listening: { host: "127.0.0.1", port: 8145 },
    config: () => config!,
    reload: () => [],
    stop: async () => {},
    stats: () => ({ inFlight: 1, openStreams: 1, requests: 7, errors: 2, byInstance: { a: { requests: 5, errors: 2 }, ext: { requests: 2, errors: 0 } } }),
    coolingList: () => cooling,
    stateHealth: () => ({ backend: "local", up: true, where: "/srv/gw/.gw/state.db" }),
  } satisfies Gateway & GatewayExtras;
  const set = idleSet(config!);
  const report = buildStatus({ config: config!, set, gateway, phase: "serving", startedAt: now - 3_600_000, demo: false }, now, now);
  expect(report.coolingKnown).toBe(true);
  expect(report.lb).toEqual({ url: "http://127.0.0.1:8145", inFlight: 1, openStreams: 1, requests: 7, errors: 2 });
  // The column counts what keeps requests out, as gw_cooldowns_active and the status page do
  // (observe/metrics.ts isCooling); a half-open target is listed on its own line, not as cooling.
  expect(report.instances.map((i) => [i.name, i.state, i.requests, i.errors, i.cooling, i.halfOpen])).toEqual([
    ["a", "stopped", 5, 2, ["g3f → gemini-3-flash (quota, 42 s left)"], ["g3p → gemini-3-pro (transient: the next request is its trial)"]],
    ["ext", "external", 2, 0, ["g3p → gpt-5 (signature, 5 s left: keeps out signed requests only)"], ["g3f → gpt-5 (signature: the next signed request is its trial)"]],
  ]);
  const text = formatStatus(report, now);
  expect(text).toContain("gw serving  pid");
  expect(text).toContain("up 1h00m");
  expect(text).toMatch(/^a\s+-\s+8146\s+stopped\s+-\s+0\s+-\s+5\s+2\s+1$/m);
  expect(text).toMatch(/^ext\s+-\s+9000\s+external\s+-\s+0\s+-\s+2\s+0\s+1$/m);
  expect(text).toContain("a: cooling g3f → gemini-3-flash (quota, 42 s left)");
  expect(text).toContain("a: half-open g3p → gemini-3-pro (transient: the next request is its trial)");
  expect(text).not.toContain("cooling g3p → gemini-3-pro");
  // A gw from before the split sent half-open targets in `cooling`: shown as it sent them.
  const older = { ...report, instances: report.instances.map(({ halfOpen: _, ...i }) => ({ ...i, cooling: ["g3p → gemini-3-pro (transient, half-open: the next request is its trial)"] })) };
  expect(formatStatus(older, now)).toContain("a: cooling g3p → gemini-3-pro (transient, half-open: the next request is its trial)");
  expect(text).toContain("state   local /srv/gw/.gw/state.db");
});

test("on a terminal narrower than the table each instance is a block of lines that fit (the rows wrapped into a jumble)", () => {
  const { config } = parseConfig(TOML, "/srv/gw/providers.toml");
  const report = buildStatus({ config: config!, set: idleSet(config!), gateway: null, phase: "serving", startedAt: 0, demo: false }, 5_000, 5_000);
  const narrow = formatStatus(report, 5_000, 40);
  const blocks = narrow.slice(narrow.indexOf("\n\n") + 2).split("\n");
  expect(blocks).toEqual([
    "a",
    "  pid -  port 8146  state stopped",
    "  uptime -  restarts 0  last exit -",
    "  requests 0  errors 0  cooling ?",
    "ext",
    "  pid -  port 9000  state external",
    "  uptime -  restarts 0  last exit -",
    "  requests 0  errors 0  cooling ?",
  ]);
  // wide enough: the table, as before
  expect(formatStatus(report, 5_000, 120)).toBe(formatStatus(report, 5_000));
  expect(formatStatus(report, 5_000)).toMatch(/^instance\s+pid\s+port/m);
});

test("a state is the set's for a managed instance (its problem too) and the probes' for an external one: down when they say so", () => {
  const { config } = parseConfig(TOML, "/srv/gw/providers.toml");
  const set = idleSet(config!);
  Object.assign(set.get("a")!, { state: "failed", problem: "command of instance 'a' not found" });
  const probed = { url: "http://127.0.0.1:8145", stats: () => ({ inFlight: 0, openStreams: 0, requests: 0, errors: 0, byInstance: {} }), instancesDown: () => ["ext"] };
  const report = buildStatus({ config: config!, set, gateway: probed as unknown as Gateway, phase: "serving", startedAt: 0, demo: false }, 10_000, 10_000);
  expect(report.instances.map((i) => [i.name, i.state, i.problem])).toEqual([
    ["a", "failed", "command of instance 'a' not found"],
    ["ext", "down", ""],
  ]);
});

test("last exit: a signal, a code, or — for an instance adopted at an upgrade, whose status no one can read — says so instead of 'code null'", () => {
  const { config } = parseConfig(TOML, "/srv/gw/providers.toml");
  const set = idleSet(config!);
  const report = (lastExit: { code: number | null; signal: string | null }) => {
    set.get("a")!.lastExit = { ...lastExit, at: 7_000 }; // on the monotonic clock, 3 s before `mono`
    return formatStatus(buildStatus({ config: config!, set, gateway: null, phase: "serving", startedAt: 0, demo: false }, 1_000_000, 10_000));
  };
  expect(report({ code: null, signal: "SIGKILL" })).toMatch(/^a\s.*\sSIGKILL 3s ago\s/m);
  expect(report({ code: 3, signal: null })).toMatch(/^a\s.*\scode 3 3s ago\s/m);
  const adopted = report({ code: null, signal: null });
  expect(adopted).not.toContain("null");
  expect(adopted).toMatch(/^a\s.*\sstatus unknown, adopted 3s ago\s/m);
});

test("a gw from before agoMs sends the exit's wall-clock time alone: gw status still says how long ago", () => {
  const { config } = parseConfig(TOML, "/srv/gw/providers.toml");
  const report = buildStatus({ config: config!, set: idleSet(config!), gateway: null, phase: "serving", startedAt: 0, demo: false }, 10_000, 10_000);
  const old = { ...report, instances: report.instances.map((i) => (i.name === "a" ? { ...i, lastExit: { code: 3, signal: null, at: 7_000 } } : i)) };
  expect(formatStatus(old, 10_000)).toMatch(/^a\s.*\scode 3 3s ago\s/m);
});

test("uptime and the last exit are durations on the monotonic clock: the wall clock set back or ahead changes neither", () => {
  const { config } = parseConfig(TOML, "/srv/gw/providers.toml");
  const set = idleSet(config!);
  set.get("a")!.lastExit = { code: 3, signal: null, at: 40_000 };
  const mono = 100_000;
  for (const wall of [1_000_000_000 - 2 * 3600_000, 1_000_000_000 + 2 * 3600_000]) {
    const report = buildStatus({ config: config!, set, gateway: null, phase: "serving", startedAt: 10_000, demo: false }, wall, mono);
    expect(report.uptimeMs).toBe(90_000);
    expect(report.instances[0]!.lastExit).toEqual({ code: 3, signal: null, at: wall - 60_000, agoMs: 60_000 });
    const text = formatStatus(report, wall);
    expect(text).toContain("up 1m30s");
    expect(text).toMatch(/^a\s.*\scode 3 1m00s ago\s/m);
  }
});

test("a state backend that does not answer is one line saying so, for how long, and that gw goes on", () => {
  const down = { backend: "redis" as const, up: false, where: "redis://10.0.0.5:6379", problem: "Connection closed", downSince: 1_000 };
  expect(stateLine(down, 43_000)).toBe("redis redis://10.0.0.5:6379  DOWN 42s: Connection closed — serving from local state");
  // The reporting gw's own measure when it sent one (its monotonic clock), whatever the reader's clock says.
  expect(stateLine({ ...down, downForMs: 5_000 }, 86_400_000)).toContain("  DOWN 5s: ");
  // From a gw that sent downSince alone, a reader's clock behind it shows 0 s, not a negative age.
  expect(stateLine(down, 0)).toContain("  DOWN 0s: ");
  expect(stateLine({ backend: "memory", up: true, where: "memory" })).toBe("memory (nothing kept across restarts)");
  // A state file gw cannot use leaves memory alone, not a local copy of something shared.
  expect(stateLine({ backend: "local", up: false, where: "/srv/gw/.gw/state.db", problem: "disk is full" }, 0)).toBe(
    "local /srv/gw/.gw/state.db  DOWN: disk is full — keeping state in memory (a restart loses it)",
  );
});

test("without cooldowns from the gateway the column says it does not know", () => {
  const { config } = parseConfig(TOML, "/srv/gw/providers.toml");
  const set = idleSet(config!);
  const report = buildStatus({ config: config!, set, gateway: null, phase: "starting", startedAt: 0, demo: true }, 5_000, 5_000);
  expect(report.coolingKnown).toBe(false);
  expect(report.lb).toBeNull();
  const text = formatStatus(report, 5_000);
  expect(text).toContain("lb      not serving yet");
  expect(text).toMatch(/^a\s.*\s\?$/m);
});
