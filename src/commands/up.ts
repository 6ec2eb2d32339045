import { CliError } from "../cli/errors.ts";
import { findConfigFile, formatProblem } from "../config/index.ts";
import type { Problem } from "../config/types.ts";
import { type DetachOutcome, startDetached } from "../supervisor/daemon.ts";
import { DEMO_MAIN_PORT, demoBanner, demoDir, demoFile, writeDemoConfig } from "../supervisor/demo.ts";
import { refuseIfRunning } from "../supervisor/guard.ts";
import { healthOf } from "../supervisor/health.ts";
import { gwPaths } from "../supervisor/paths.ts";
import { DETACHED_ENV, selfDisplay, typed, typedIn } from "../supervisor/self.ts";
import { ANOTHER_GW_EXIT } from "../supervisor/service.ts";
import { loadValidConfig, notRenamed } from "./_config.ts";
import { configArgs, defineGwCommand, jsonArgs, printJson } from "./_shared.ts";
import { ABOUT } from "./index.ts";

export default defineGwCommand({
  meta: { name: "up", description: ABOUT.up },
  args: {
    ...configArgs,
    ...jsonArgs,
    detach: { type: "boolean", alias: "d", description: "run in the background; return once it serves" },
    port: { type: "string", description: "port of the load balancer (overrides main_port)", valueHint: "N" },
  },
  async run({ args }) {
    const env = process.env;
    const detachedChild = env[DETACHED_ENV] === "1";
    delete env[DETACHED_ENV]; // instances inherit gw's environment, not this marker
    const port = args.port === undefined ? undefined : Number(args.port);
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) throw new CliError(`--port ${args.port} is not a port number`, 1, "give a number from 1 to 65535");
    // In the foreground gw prints its log for as long as it runs: no JSON document would ever end
    if (args.json && !args.detach) throw new CliError("--json goes with -d", 1, "gw up -d --json prints one JSON document once gw serves");
    let file = findConfigFile(args.config, env);
    const demo = !file || file === demoFile(env);
    if (!file) {
      const edited = notRenamed(); // the user's own config under the example's name: not the demo in its place
      if (edited) throw edited;
      await refuseIfRunning(gwPaths(demoDir(env))); // rewriting demo.toml would reload a running demo
      file = await writeDemoConfig(env, port ?? DEMO_MAIN_PORT);
    }
    const printed: Problem[] = [];
    const config = await loadValidConfig(file, { printed });
    // As gw check refuses main_port on an instance's port: said now, not once that instance holds it.
    const clash = port === undefined || demo ? undefined : config.instances.find((i) => i.managed && i.port === port);
    if (clash) throw new CliError(`--port ${port} is the port of instance '${clash.name}'`, 1, "give the load balancer another port");
    const portArgs = port !== undefined && !demo ? ["--port", String(port)] : [];
    if (args.detach) {
      // The background gw reads the config again and prints its problems again, from its cwd (the
      // config's folder): those lines were said above already.
      const paths = gwPaths(config.dir);
      const saidAbove = new Set(printed.map((p) => typedIn(formatProblem(p, paths.dir))));
      // Its progress on stdout, what it printed itself (its refusal, as in the foreground) on stderr.
      const out = await startDetached(paths, ["-c", file, ...portArgs], (line, itself) => args.json || (itself ? saidAbove.delete(line) || console.error(line) : console.log(line)));
      const log = paths.gwLog;
      if (args.json) printJson(out.ok || out.problem ? out : { ...out, problem: ended(out), hint: `see its log: ${log}` }, true);
      else if (out.ok) {
        const h = healthOf(out.instances ?? []);
        const ready = h.status === "ok" ? "" : ` with ${h.ready}/${h.total} instances ready (not ready: ${h.notReady.join(", ")})`;
        console.log(`gw is running in the background (pid ${out.pid}) on ${out.url}${ready} — ${selfDisplay()} status · logs -f · down`);
      } else if (!out.problem) console.error(`gw: ${ended(out)} — the lines above say ${out.exitCode === 0 ? "so" : "why"}; full log: ${log}`);
      // Refused for another gw here (one started at the same moment): the same status as a refusal before the start.
      return out.ok ? 0 : out.exitCode === ANOTHER_GW_EXIT ? ANOTHER_GW_EXIT : 1;
    }
    const { serve } = await import("../supervisor/run.ts"); // the LB and the rest: not for -d, whose child serves
    await serve({
      config,
      demo,
      port: demo ? undefined : port,
      terminal: !detachedChild,
      env,
      banner: demo ? (url) => demoBanner(url, file) : undefined,
    });
    return 0;
  },
});

/** How a background gw that said no reason of its own ended before it served. */
function ended(out: DetachOutcome): string {
  // Stopped as asked (gw down, a SIGTERM) before it served: no failure of its own.
  if (out.exitCode === 0) return `gw (pid ${out.pid}) was stopped before it served`;
  return `${typed("gw up -d")} failed (${out.signal ? `killed by ${out.signal}` : `exit code ${out.exitCode}`})`;
}
