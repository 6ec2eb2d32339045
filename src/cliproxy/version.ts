// The version a CLIProxyAPI binary reports: it prints "CLIProxyAPI Version: X, Commit: …, BuiltAt: …"
// as its very first line, before reading flags, so `-h` shows it and exits at once.
import { dirname } from "node:path";
import { outputUntilExit } from "../sys/exit-output.ts";

/** The version a CLIProxyAPI prints as its first line ("CLIProxyAPI Version: X, Commit: …"): its -h says it, and so does an instance's log. */
export const VERSION_LINE = /CLIProxyAPI Version: ([^,\s]+)/;
const ASK_TIMEOUT_MS = 5_000;

export async function binaryVersion(path: string): Promise<string | null> {
  try {
    // In the binary's own directory: it may read ./config.yaml and ./.env where it starts.
    const proc = Bun.spawn([path, "-h"], { cwd: dirname(path), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const timer = setTimeout(() => proc.kill("SIGKILL"), ASK_TIMEOUT_MS);
    const { out, err } = await outputUntilExit(proc);
    clearTimeout(timer);
    return VERSION_LINE.exec(out + err)?.[1] ?? null;
  } catch {
    return null;
  }
}
