// A sandbox for running cld as a child: temp HOME, a PATH with a fake `claude` that records
// its argv, environment and PID, and optional real tools (fzf, tmux) linked beside it.
import { afterAll, setDefaultTimeout } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./tmp.ts";

const sandboxes: string[] = [];

/** Remove every sandbox this test file made (call from afterAll). */
export function removeSandboxes(): void {
  for (const d of sandboxes.splice(0)) rmSync(d, { recursive: true, force: true });
}

export const MAIN = join(import.meta.dir, "../../src/main.ts");
/** What a fake agent installed without a version says it is: the pinned Claude Code's. */
const FAKE_CURRENT = (JSON.parse(readFileSync(join(import.meta.dir, "../../node_modules/@anthropic-ai/claude-code/package.json"), "utf8")) as { version: string }).version;

interface ClaudeCall {
  readonly argv: string[];
  readonly env: Record<string, string>;
  readonly pid: number;
}

interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** PID of the process we started (equals the claude PID when cld used execve). */
  readonly pid: number;
  readonly call: ClaudeCall | null;
}

interface SandboxOptions {
  /** Real tools to put on the sandbox PATH beside the fake claude. */
  readonly tools?: readonly string[];
  /** Leave claude out of PATH. */
  readonly noClaude?: boolean;
  /** Install the fake claude as npm lays out @anthropic-ai/claude-code of this version (bin/claude → …/bin/claude.exe). */
  readonly claudeVersion?: string;
  /** Other fake agents to put on PATH (gw run's codex, gemini), recording like the fake claude. */
  readonly agents?: readonly string[];
}

export class CldSandbox {
  readonly dir = tempDir("gw-cld-");
  readonly home = join(this.dir, "home");
  readonly bin = join(this.dir, "bin");
  readonly record = join(this.dir, "record");
  /** TMPDIR and XDG_RUNTIME_DIR of the children: Claude Code and fish put their own folders there, not in /tmp. */
  readonly tmp = join(this.dir, "tmp");

  constructor(opts: SandboxOptions = {}) {
    sandboxes.push(this.dir);
    mkdirSync(this.home);
    mkdirSync(this.bin);
    mkdirSync(this.tmp, { mode: 0o700 });
    if (!opts.noClaude) this.writeClaude(opts.claudeVersion);
    for (const name of opts.agents ?? []) this.writeClaude(undefined, name);
    for (const tool of opts.tools ?? []) {
      const real = Bun.which(tool);
      if (!real) throw new Error(`${tool} is needed by this test (apt-get install -y ${tool})`);
      symlinkSync(real, join(this.bin, tool));
    }
  }

  /**
   * The fake claude (or another agent): NUL-separated argv and env, its PID, a session file when
   * FAKE_CLAUDE_SESSION names one, then an exit code chosen by the test.
   */
  private writeClaude(version?: string, name = "claude"): void {
    // Asked for its version (a launcher that cannot read it from the layout, behind a proxy): a current build, unrecorded.
    const script = `#!/bin/sh
if [ "$1" = "--version" ]; then echo "${version ?? FAKE_CURRENT} (Claude Code)"; exit 0; fi
printf '%s' "$$" > '${this.record}.pid'
printf '%s\\0' "$@" > '${this.record}.argv'
/usr/bin/env -0 > '${this.record}.env'
if [ -n "$FAKE_CLAUDE_STDIN" ]; then /bin/cat > '${this.record}.stdin'; fi
dir="\${CLAUDE_CONFIG_DIR:-$HOME/.claude}/projects/-w"
if [ -n "$FAKE_CLAUDE_SESSION" ]; then /bin/mkdir -p "$dir" && echo '{}' > "$dir/$FAKE_CLAUDE_SESSION.jsonl"; fi
echo "fake ${name} ran"
exit "\${FAKE_CLAUDE_EXIT:-0}"
`;
    if (version === undefined) {
      writeFileSync(join(this.bin, name), script, { mode: 0o755 });
      return;
    }
    const pkg = join(this.dir, "node_modules/@anthropic-ai/claude-code");
    mkdirSync(join(pkg, "bin"), { recursive: true });
    writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "@anthropic-ai/claude-code", version }));
    writeFileSync(join(pkg, "bin/claude.exe"), script, { mode: 0o755 });
    symlinkSync(join(pkg, "bin/claude.exe"), join(this.bin, "claude"));
  }

  /** Environment a cld child gets: nothing from the test runner but what is named (and Bun's transpiler cache: test/setup.ts). */
  env(extra: Record<string, string> = {}): Record<string, string> {
    const cache = process.env.BUN_RUNTIME_TRANSPILER_CACHE_PATH;
    return { HOME: this.home, PATH: this.bin, TMPDIR: this.tmp, XDG_RUNTIME_DIR: this.tmp, ...(cache ? { BUN_RUNTIME_TRANSPILER_CACHE_PATH: cache } : {}), ...extra };
  }

  lastCall(): ClaudeCall | null {
    if (!existsSync(`${this.record}.pid`)) return null;
    const split = (f: string) => readFileSync(f, "utf8").split("\0").slice(0, -1);
    const env = Object.fromEntries(split(`${this.record}.env`).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
    return { argv: split(`${this.record}.argv`), env, pid: Number(readFileSync(`${this.record}.pid`, "utf8")) };
  }

  clearCall(): void {
    for (const ext of ["pid", "argv", "env", "stdin"]) rmSync(`${this.record}.${ext}`, { force: true });
  }

  /** What claude read on stdin (when the run passed `stdin`). */
  claudeStdin(): string {
    return readFileSync(`${this.record}.stdin`, "utf8");
  }

  /** Run `bun src/main.ts cld ARGS` (or `cmd` as given) without a controlling terminal. */
  async run(args: readonly string[], opts: { env?: Record<string, string>; cwd?: string; cmd?: readonly string[]; stdin?: string } = {}): Promise<RunResult> {
    this.clearCall();
    const proc = Bun.spawn([...(opts.cmd ?? [process.execPath, MAIN, "cld"]), ...args], {
      cwd: opts.cwd ?? this.dir,
      env: this.env(opts.stdin === undefined ? opts.env : { ...opts.env, FAKE_CLAUDE_STDIN: "1" }),
      stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]),
      stdout: "pipe",
      stderr: "pipe",
      detached: true, // its own session: no /dev/tty, as in a script or CI
    });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code, stdout, stderr, pid: proc.pid, call: this.lastCall() };
  }

  /** Remembered values of a mode (`last_*` files) under the given cache root. */
  memory(mode: string, cacheRoot = join(this.home, ".cache")): Record<string, string> {
    const dir = join(cacheRoot, "cld", mode);
    const out: Record<string, string> = {};
    for (const n of ["main", "fast", "opus", "scenario", "auto_upgrade"]) {
      const f = join(dir, `last_${n}`);
      if (existsSync(f)) out[n] = readFileSync(f, "utf8").trim();
    }
    return out;
  }

  remember(mode: string, values: Record<string, string>): void {
    const dir = join(this.home, ".cache", "cld", mode);
    mkdirSync(dir, { recursive: true });
    for (const [n, v] of Object.entries(values)) writeFileSync(join(dir, `last_${n}`), `${v}\n`);
  }

  writeConfig(name: string, text: string): string {
    const file = join(this.dir, name);
    writeFileSync(file, text);
    return file;
  }
}

/** A providers.toml whose LB port is `port`, with routes for every cld feature. */
export function cldConfig(port: number, extra = ""): string {
  const route = (model: string) => `[{ instance = "a", provider = "antigravity", model = "${model}" }]`;
  return `[global]
host = "0.0.0.0"
main_port = ${port}
${extra}

[instances.a]
port = ${port + 1 > 65535 ? port - 1 : port + 1}
providers = [{ type = "antigravity" }]

[routing]
"opus4.6" = ${route("claude-opus-4-6-thinking")}
"g3p" = ${route("gemini-3-pro")}
"g3f" = ${route("gemini-3-flash")}
"g3f.auto" = ${route("gemini-3-flash")}
"kimi-k2" = ${route("kimi-k2")}
`;
}

/** `gw run` as the tests start it. */
export const RUN = [process.execPath, MAIN, "run"];

/**
 * A test file's fake gateway, stopped (with the file's sandboxes removed) after the file; and
 * the longer default timeout real processes need on a shared 2-core machine.
 */
export function gatewayForFile() {
  setDefaultTimeout(60_000);
  const gateway = fakeGateway();
  afterAll(() => {
    gateway.stop(true);
    removeSandboxes();
  });
  return gateway;
}

/** A loopback server standing in for the gateway: it answers /v1/models as gw does, anything else "ok". */
export function fakeGateway() {
  // What cld asks gw before a launch: its model list (none here: windows come from the catalogue).
  return Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => (new URL(req.url).pathname === "/v1/models" ? Response.json({ object: "list", data: [] }) : new Response("ok")) });
}

/** A loopback port with nothing listening on it. */
export function closedPort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
  const port = s.port!;
  s.stop(true);
  return port;
}

