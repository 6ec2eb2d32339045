// Temp dirs for tests: real files, removed after the run.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];

/** Called once after the whole run by test/setup.ts (bun test fires no process "exit"). */
export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function tempDir(prefix = "gw-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/** Write files (name → text) into a fresh temp dir and return its path. */
export function tempFiles(files: Record<string, string>): string {
  const d = tempDir();
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

const running = new Set<Bun.Subprocess>();

/** Kill every gw runGw started that still runs: one a test gave up on (it timed out) must not stay blocked for ever. */
export function killRunningGw(): void {
  for (const p of running) p.kill("SIGKILL");
  running.clear();
}

/** Run the gw CLI from source as a child process. */
export async function runGw(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined>; argv0?: string } = {}) {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "../../src/main.ts"), ...args], {
    cwd: opts.cwd,
    argv0: opts.argv0, // "cld": the program name the cld link gives gw
    env: { ...process.env, NO_COLOR: "1", ...opts.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  running.add(proc);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  running.delete(proc);
  return { stdout, stderr, code };
}
