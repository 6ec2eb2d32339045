// `gw up` in the foreground: clean up after a dead gw, write instance YAML, start the instances,
// serve the LB, answer the control socket, reload on change, and stop everything in order.
import { CliError } from "../cli/errors.ts";
import { formatProblem } from "../config/index.ts";
import type { Config } from "../config/types.ts";
import { writeInstanceFiles, withInstanceKeys } from "../instances/index.ts";
import { createReloader, type Reloader } from "../lb/reload.ts";
import { type Gateway, startGateway } from "../lb/server.ts";
import { checkSocketPath, startControlServer } from "./control.ts";
import { refuseBusyMainPort, refuseIfRunning } from "./guard.ts";
import { InstanceSet } from "./instances.ts";
import { createGwLogger } from "./logger.ts";
import { logStream } from "./logtail.ts";
import { recordOf, removeRunFiles, stopLeftovers, writeChildren, writeGwPid, type ProcRecord } from "./orphans.ts";
import { gwPaths, instanceLog } from "./paths.ts";
import { rotateIfLarge } from "./rotate.ts";
import { buildStatus, type Phase, type StatusSources } from "./status.ts";
import { connectLiveState } from "./live.ts";
import { DEFAULT_TIMING, type Timing } from "./timing.ts";
import { startWatchdog } from "./watchdog.ts";
import { selfDisplay } from "./self.ts";

export interface ServeOptions {
  /** Valid config, as loaded (instance keys not filled in yet). */
  readonly config: Config;
  readonly demo: boolean;
  /** Overrides [global] main_port. */
  readonly port?: number;
  /** Print to the terminal too (false for the detached gw, whose stdout already is gw.log). */
  readonly terminal: boolean;
  readonly env: Record<string, string | undefined>;
  readonly timing?: Timing;
  /** Printed once the LB serves (the demo's how-to). */
  readonly banner?: (url: string) => string;
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** Runs until SIGINT/SIGTERM or `gw down`; resolves once every instance has stopped. */
export async function serve(opts: ServeOptions): Promise<void> {
  const timing = opts.timing ?? DEFAULT_TIMING;
  const paths = gwPaths(opts.config.dir);
  checkSocketPath(paths);
  await refuseIfRunning(paths);
  const log = createGwLogger({ file: paths.gwLog, terminal: opts.terminal });
  const leftovers = await stopLeftovers(paths, timing.killWaitMs);
  if (leftovers.length) log.warn(`stopped instances a previous gw left running: ${leftovers.join(", ")}`);
  let config = await withInstanceKeys(opts.config);
  await writeInstanceFiles(config);
  const port = opts.port ?? config.global.mainPort;
  await refuseBusyMainPort(port, config.global.bindHost, opts.demo ? "stop that process or run: gw up --port N" : "change [global] main_port or stop that process");
  await writeGwPid(paths);
  const watchdog = startWatchdog(paths, config.file, opts.env);

  let phase: Phase = "starting";
  let gateway: Gateway | null = null;
  let reloader: Reloader | null = null;
  const startedAt = Date.now();
  let registry = Promise.resolve();
  const set: InstanceSet = new InstanceSet(config, {
    timing,
    env: opts.env,
    log,
    logFile: (name) => instanceLog(paths, name),
    childrenChanged: () => {
      registry = registry.then(async () => {
        const recs = await Promise.all(set.list().flatMap((s) => (s.child ? [recordOf(s.name, s.child.pid)] : [])));
        await writeChildren(paths, recs.filter((r): r is ProcRecord => r !== null));
      });
    },
  });

  let rotation: ReturnType<typeof setInterval> | undefined;
  const sources = (): StatusSources => ({ config, set, gateway, phase, startedAt, demo: opts.demo });
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let stopping: Promise<void> | null = null;
  const onSignal = () => void stop();
  const stop = () =>
    (stopping ??= (async () => {
      phase = "stopping";
      reloader?.close();
      clearInterval(rotation);
      const grace = config.global.shutdownGraceMs;
      const streams = gateway?.stats().openStreams ?? 0;
      log.info(`stopping: ${streams ? `letting ${streams} stream(s) in flight finish (up to ${grace / 1000} s), then ` : ""}stopping instances`);
      await gateway?.stop(grace);
      await set.stopAll();
      await registry;
      control.stop();
      await removeRunFiles(paths);
      watchdog.stop();
      log.info("stopped");
      await log.close();
      for (const sig of SIGNALS) process.off(sig, onSignal); // a second Ctrl-C meanwhile must not orphan instances
      resolveDone();
    })());

  const control = await startControlServer(paths, {
    status: () => buildStatus(sources()),
    down: () => void stop(),
    restart: async (name) => (name && !set.get(name) ? null : set.restart(name)),
    reload: async () => {
      if (!reloader) return { ok: false, problems: ["gw is still starting; reload once it serves"] };
      const r = await reloader.reload();
      return { ok: r.ok, problems: r.problems.map((p) => formatProblem(p)) };
    },
    logs: (name, n, follow, signal) => {
      const all = [{ name: "gw", file: paths.gwLog }, ...config.instances.filter((i) => i.managed).map((i) => ({ name: i.name, file: instanceLog(paths, i.name) }))];
      const sources = name ? all.filter((s) => s.name === name) : all;
      return sources.length ? logStream(sources, n, follow, signal) : null;
    },
  });
  for (const sig of SIGNALS) process.on(sig, onSignal);

  rotation = setInterval(() => {
    for (const file of [paths.gwLog, ...set.list().map((s) => instanceLog(paths, s.name))]) {
      void rotateIfLarge(file, timing.logMaxBytes, timing.logKeep).catch((e) => log.warn(`log rotation of ${file} failed: ${e.message}`));
    }
  }, timing.rotateCheckMs);

  const managed = set.list().length;
  log.info(`gw ${process.pid}: starting ${managed} instance${managed === 1 ? "" : "s"} (config ${config.file})`);
  await set.startAll();
  if (stopping) return done;
  try {
    gateway = startGateway(config, { port });
  } catch (err) {
    log.error(`the load balancer could not listen on port ${port}: ${(err as Error).message}`);
    await stop();
    throw new CliError(`the load balancer could not listen on ${config.global.bindHost}:${port} — change [global] main_port or stop what uses it`);
  }
  phase = "serving";
  void connectLiveState(sources, log);
  const gw = selfDisplay();
  const ready = set.list().filter((s) => s.state === "ready").length;
  log.info(`serving on ${gateway.url} — ${ready}/${managed} instances ready; ${gw} status · ${gw} logs -f · ${gw} down`);
  if (opts.banner) for (const line of opts.banner(gateway.url).split("\n")) log.info(line);

  reloader = createReloader({
    file: config.file,
    log,
    apply: async (next) => {
      const keyed = await withInstanceKeys(next);
      await writeInstanceFiles(keyed);
      if (keyed.global.mainPort !== config.global.mainPort && opts.port === undefined) {
        log.warn(`main_port changed to ${keyed.global.mainPort}; the LB stays on ${port} until gw restarts`);
      }
      gateway?.reload(keyed);
      config = keyed;
      await set.reconcile(keyed);
    },
  });
  return done;
}
