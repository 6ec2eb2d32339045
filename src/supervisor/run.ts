// `gw up` in the foreground: clean up after a dead gw, write instance YAML, start the instances,
// serve the LB, answer the control socket, reload on change, and stop everything in order.
import { CliError } from "../cli/errors.ts";
import type { Config } from "../config/types.ts";
import { writeInstanceFiles, withInstanceKeys } from "../instances/index.ts";
import { setupNotes } from "../migrate/checks.ts";
import { ensureFetchLimit } from "../lb/concurrency.ts";
import { createReloader, type Reloader, restartOnlyChanges } from "../lb/reload.ts";
import { type Gateway, startGateway } from "../lb/server.ts";
import { checkSocketPath, startControlServer } from "./control.ts";
import { refuseBusyMainPort, refuseIfRunning } from "./guard.ts";
import { controlHandlers } from "./handlers.ts";
import { healthOf, type InstanceView, notReadyLines, startVerdict } from "./health.ts";
import { InstanceSet } from "./instances.ts";
import { connectLiveState } from "./live.ts";
import { createGwLogger } from "./logger.ts";
import { childRegistry, removeRunFiles, stopLeftovers, writeGwPid } from "./orphans.ts";
import { gwPaths, instanceLog } from "./paths.ts";
import { startRotation } from "./rotate.ts";
import { selfDisplay } from "./self.ts";
import type { Phase, StatusSources } from "./status.ts";
import { DEFAULT_TIMING, type Timing } from "./timing.ts";
import { startWatchdog } from "./watchdog.ts";

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
/** A stop signal this soon after the first is the same key press, delivered twice. */
export const SIGNAL_ECHO_MS = 1_000;
/** SIGHUP means reload (lb/reload.ts); before the reloader exists it must not kill gw (its default). */
const ignoreHup = () => {};

/** Runs until SIGINT/SIGTERM or `gw down`; resolves once every instance has stopped. */
export async function serve(opts: ServeOptions): Promise<void> {
  // The real `gw up` (serving with its own environment) needs Bun's fetch cap raised before
  // anything starts: re-exec with it (no-op when set, e.g. under `gw up -d`). Callers passing
  // another environment (tests running serve in-process) are left alone.
  if (opts.env === process.env) ensureFetchLimit();
  // Instances get the environment as it was: the LB adds its instances to this process's
  // NO_PROXY (lb/noproxy.ts), which is not theirs to inherit.
  const childEnv = { ...opts.env };
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
  await refuseBusyMainPort(port, config.global.bindHost, opts.demo, opts.env);
  if (!opts.demo) {
    const notes = await setupNotes(config);
    for (const w of notes.warnings) log.warn(w);
    log.info(notes.info);
  }
  await writeGwPid(paths);
  const watchdog = startWatchdog(paths, config.file, opts.env);

  let phase: Phase = "starting";
  let gateway: Gateway | null = null;
  let reloader: Reloader | null = null;
  const startedAt = Date.now();
  const registry = childRegistry(paths, () => set.list().flatMap((s) => (s.child ? [{ name: s.name, pid: s.child.pid }] : [])));
  const set = new InstanceSet(config, { timing, env: childEnv, log, logFile: (name) => instanceLog(paths, name), childrenChanged: registry.update });
  const sources = (): StatusSources => ({ config, set, gateway, phase, startedAt, demo: opts.demo });
  const views = (): InstanceView[] =>
    config.instances.map((i) => {
      const s = set.get(i.name);
      return { name: i.name, managed: i.managed, state: s?.state ?? "stopped", problem: s?.problem ?? "" };
    });
  const stopRotation = startRotation(() => [paths.gwLog, ...set.list().map((s) => instanceLog(paths, s.name))], timing, log.warn);

  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let stopping: Promise<void> | null = null;
  let firstSignalAt = 0;
  const onSignal = () => {
    if (!stopping) {
      firstSignalAt = Date.now();
      return void stop();
    }
    // One key press can arrive twice (under `bun run`: bun forwards it, and the terminal sends it
    // to the whole process group): only a later, deliberate second Ctrl-C cuts the streams.
    if (Date.now() - firstSignalAt < SIGNAL_ECHO_MS) return;
    log.warn("stopping now: streams still in flight are cut");
    void gateway?.stop(0);
  };
  const stop = () =>
    (stopping ??= (async () => {
      phase = "stopping";
      reloader?.close();
      stopRotation();
      const grace = config.global.shutdownGraceMs;
      const streams = gateway?.stats().openStreams ?? 0;
      const cut = streams && opts.terminal ? " — Ctrl-C again to cut them" : "";
      log.info(`stopping: ${streams ? `letting ${streams} stream(s) in flight finish (up to ${grace / 1000} s${cut}), then ` : ""}stopping instances`);
      await gateway?.stop(grace);
      await set.stopAll();
      await registry.flushed();
      control.stop();
      await removeRunFiles(paths);
      await watchdog.stop();
      log.info("stopped");
      await log.close();
      for (const sig of SIGNALS) process.off(sig, onSignal); // kept until here: a second Ctrl-C must not orphan instances
      process.off("SIGHUP", ignoreHup);
      resolveDone();
    })());

  const control = await startControlServer(paths, controlHandlers({ paths, sources, set, stop, reloader: () => reloader }));
  for (const sig of SIGNALS) process.on(sig, onSignal);
  process.on("SIGHUP", ignoreHup);

  const managed = set.list().length;
  log.info(`gw ${process.pid}: starting ${managed} instance${managed === 1 ? "" : "s"} (config ${config.file})`);
  await set.startAll();
  const verdict = await settle(views, timing, () => stopping !== null);
  if (stopping) return done;
  if (verdict === "give-up") {
    for (const line of ["no instance can serve, so gw stops:", ...notReadyLines(views())]) log.error(line);
    await stop();
    throw new CliError("no instance can serve; gw stopped", 1, "the lines above say why for each instance; fix that and run gw up again");
  }
  try {
    gateway = startGateway(config, { port, log, health: () => healthOf(views()) });
  } catch (err) {
    log.error(`the load balancer could not listen on port ${port}: ${(err as Error).message}`);
    await stop();
    throw new CliError(`the load balancer could not listen on ${config.global.bindHost}:${port} — change [global] main_port or stop what uses it`);
  }
  void connectLiveState(sources, log);
  const gw = selfDisplay();
  const ready = set.list().filter((s) => s.state === "ready").length;
  log.info(`serving on ${gateway.url} — ${ready}/${managed} instances ready; ${gw} status · ${gw} logs -f · ${gw} down`);
  const unready = notReadyLines(views());
  if (unready.length) for (const line of ["not ready (their routes fail over to the other instances meanwhile):", ...unready]) log.warn(line);
  if (opts.banner) for (const line of opts.banner(gateway.url).split("\n")) log.info(line);
  phase = "serving"; // after the banner: `up -d` returns on this and prints gw.log up to here

  const listening = { port, host: config.global.bindHost, portFromFlag: opts.port !== undefined };
  reloader = createReloader({
    file: config.file,
    includes: config.includes,
    log,
    apply: async (next) => {
      const keyed = await withInstanceKeys(next);
      await writeInstanceFiles(keyed);
      for (const line of restartOnlyChanges(listening, keyed)) log.warn(line);
      gateway?.reload(keyed);
      config = keyed;
      await set.reconcile(keyed);
    },
  });
  return done;
}

/**
 * After the first start: when nothing is ready yet but an instance is still starting or about to
 * restart, wait (up to readyTimeoutMs) for one to come up or for all to be beyond hope. The LB
 * would serve nothing meanwhile, so this delays nothing a client could use.
 */
async function settle(views: () => InstanceView[], timing: Timing, stopped: () => boolean): Promise<"serve" | "give-up"> {
  const deadline = Date.now() + timing.readyTimeoutMs;
  for (;;) {
    const v = startVerdict(views(), Date.now() >= deadline);
    if (v.kind !== "wait" || stopped()) return v.kind === "give-up" ? "give-up" : "serve";
    await Bun.sleep(SETTLE_POLL_MS);
  }
}

const SETTLE_POLL_MS = 100;
