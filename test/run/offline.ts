// A gateway and a real coding agent with no network but loopback: one shell script run under
// `unshare -rn` (a new network namespace whose only interface is lo) starts `gw up -d` on a
// sandbox config, runs `gw run …` there with a fresh HOME, then stops gw. Whatever the agent
// tries beyond 127.0.0.1 fails, so an answer proves the whole way went through gw.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { MockStats } from "../../src/mock/index.ts";
import type { RequestRecord } from "../../src/observe/record.ts";
import { afterAll, beforeAll } from "bun:test";
import { killAll, MAIN, type Sandbox, sandbox } from "../helpers/supervisor.ts";

const REPO = join(import.meta.dir, "../..");
/** The agents' CLIs from npm (devDependencies), and the node that runs their launchers. */
export const AGENT_PATH = [join(REPO, "node_modules/.bin"), dirname(Bun.which("node") ?? "/usr/bin/node"), "/usr/local/bin", "/usr/bin", "/bin"].join(":");

export const versionOf = (pkg: string): string => JSON.parse(readFileSync(join(REPO, "node_modules", pkg, "package.json"), "utf8")).version;

const SCRIPT = `#!/bin/sh
ip link set lo up || exit 90
"$GW_BUN" "$GW_MAIN" up -d -c "$GW_CONF" > "$GW_LOGS/up.log" 2>&1 || { cat "$GW_LOGS/up.log" >&2; exit 91; }
cd "$GW_WORK" || exit 92
if [ -n "$GW_TTY" ]; then "$GW_BUN" "$GW_MAIN" run "$@"; else "$GW_BUN" "$GW_MAIN" run "$@" < /dev/null; fi
code=$?
# What each mock received, saved before gw down stops it (the test outside cannot reach in).
for pair in $GW_MOCKS; do
  "$GW_BUN" -e 'const [n, p] = process.argv[1].split("="); await Bun.write(process.env.GW_LOGS + "/mock-" + n + ".json", await (await fetch("http://127.0.0.1:" + p + "/_mock/stats")).text())' "$pair"
done
"$GW_BUN" "$GW_MAIN" down -c "$GW_CONF" > "$GW_LOGS/down.log" 2>&1
exit $code
`;

/**
 * Codex makes /tmp/codex-daemon-UID whatever TMPDIR says, and `unshare -r` makes it UID 0. Call
 * before the first run; the function it returns removes the dir again when the runs made it (and
 * it is empty: a Codex outside the test may be using it).
 */
export function codexDaemonDirCleanup(): () => void {
  const dir = "/tmp/codex-daemon-0";
  if (existsSync(dir)) return () => {};
  return () => {
    try {
      rmdirSync(dir);
    } catch {}
  };
}

/** A sandbox with one mock instance "a" behind client key `key`, these routes (name → its upstream model on "a") besides "m", and a HOME and work dir for the agent. */
export async function agentSandbox(key: string, routes: Record<string, string>): Promise<{ sb: Sandbox; home: string; work: string }> {
  const sb = await sandbox([{ name: "a" }], `api_keys = ["${key}"]`);
  // [routing] is the file's last table: these join "m" there.
  const lines = Object.entries(routes).map(([name, model]) => `"${name}" = [{ instance = "a", provider = "antigravity", model = "${model}" }]\n`);
  appendFileSync(sb.file, lines.join(""));
  const work = join(sb.dir, "work");
  mkdirSync(work, { recursive: true });
  return { sb, home: join(sb.dir, "home"), work };
}

/** A test file's agentSandbox: made before its tests (its fields are there from the first one on), everything it started stopped after them. */
export function agentSandboxForFile(key: string, routes: Record<string, string>): { readonly sb: Sandbox; readonly home: string; readonly work: string } {
  const box = {} as { sb: Sandbox; home: string; work: string };
  beforeAll(async () => {
    Object.assign(box, await agentSandbox(key, routes));
  });
  afterAll(async () => {
    if (box.sb) await killAll(box.sb);
  });
  return box;
}

interface OfflineRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `gw run ARGS` from `work`, HOME = `home`, inside a loopback-only network namespace. */
export async function offlineRun(sb: Sandbox, home: string, work: string, args: readonly string[], extraEnv: Record<string, string> = {}): Promise<OfflineRun> {
  const { argv, env } = offlineCommand(sb, home, work, args, false, extraEnv);
  const proc = Bun.spawn(argv, { cwd: work, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/**
 * The command line and environment of offlineRun's namespace. `tty`: the agent keeps the
 * caller's terminal as its input (an interactive agent in a tmux pane), else it reads nothing.
 */
export function offlineCommand(sb: Sandbox, home: string, work: string, args: readonly string[], tty = false, extraEnv: Record<string, string> = {}): { argv: string[]; env: Record<string, string> } {
  const script = join(sb.dir, "offline.sh");
  writeFileSync(script, SCRIPT, { mode: 0o755 });
  const logs = join(sb.dir, "offline-logs");
  mkdirSync(logs, { recursive: true });
  // The agents' own temp files (Gemini CLI's error reports, Codex's sandbox mount targets) stay in the sandbox.
  const tmp = join(sb.dir, "tmp");
  mkdirSync(tmp, { recursive: true });
  const env = {
    TMPDIR: tmp,
    HOME: home,
    PATH: AGENT_PATH,
    TERM: tty ? "xterm-256color" : "dumb",
    ...(tty ? { GW_TTY: "1" } : { NO_COLOR: "1" }),
    GW_BUN: process.execPath,
    GW_MAIN: MAIN,
    GW_CONF: sb.file,
    GW_WORK: work,
    GW_LOGS: logs,
    GW_MOCKS: Object.entries(sb.ports).map(([name, port]) => `${name}=${port}`).join(" "),
    ...extraEnv,
  };
  const unshare = Bun.which("unshare");
  if (!unshare) throw new Error("unshare is needed by this test (apt-get install -y util-linux)");
  return { argv: [unshare, "-rn", "/bin/sh", script, ...args], env };
}

/** What instance `name`'s mock had received when the last offlineRun ended (its last 50 requests). */
export function mockStats(sb: Sandbox, name: string): MockStats {
  return JSON.parse(readFileSync(join(sb.dir, "offline-logs", `mock-${name}.json`), "utf8")) as MockStats;
}

/** Every record of the sandbox's request log. */
export function requestLog(sb: Sandbox): RequestRecord[] {
  const dir = join(sb.dir, "logs/requests");
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".jsonl"));
  } catch {
    return [];
  }
  return files.flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as RequestRecord));
}
