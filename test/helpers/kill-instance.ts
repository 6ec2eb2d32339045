// A command for a test's tool to run (Claude Code's Bash runs the mock's `gw-mock`): SIGKILL a
// gw instance's process, as a crash would, and return once it is gone (its supervisor reaped it),
// so what the tool's caller sends next meets a dead instance, not a dying one.
// Usage: bun kill-instance.ts CONFIG NAME
import type { StatusReport } from "../../src/supervisor/status.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;
const [file, name] = process.argv.slice(2);
if (!file || !name) throw new Error("usage: kill-instance.ts CONFIG NAME");
const status = Bun.spawnSync([process.execPath, MAIN, "status", "--json", "-c", file], { stderr: "inherit" });
const report = JSON.parse(status.stdout.toString()) as StatusReport;
const pid = report.instances.find((i) => i.name === name)?.pid;
if (!pid) throw new Error(`instance ${name} has no process: ${JSON.stringify(report.instances)}`);
process.kill(pid, "SIGKILL");
while (alive(pid)) await Bun.sleep(5); // the supervisor reaps it within milliseconds
console.log(`killed instance ${name} (pid ${pid})`);

function alive(p: number): boolean {
  try {
    process.kill(p, 0);
    return true;
  } catch {
    return false;
  }
}
