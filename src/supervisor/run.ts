// `gw up` in the foreground: clean up after a dead gw, write instance YAML, start the instances,
// serve the LB, answer the control socket, reload on change, and stop everything in order.
import { CliError } from "../cli/errors.ts";
import { formatProblem } from "../config/index.ts";
import type { Config } from "../config/types.ts";
import type { RecordFile } from "../fs/record-file.ts";
import { type Rewrite, rewriteUntilDone } from "../fs/rewrite.ts";
import { swapWithInstanceFiles, writeInstanceFiles, withInstanceKeys } from "../instances/index.ts";
import { setupNotes } from "../migrate/checks.ts";
import { ensureLbSettings } from "../lb/concurrency.ts";
import { describe as describeListening } from "../lb/exposure.ts";
import { bypassProxyForInstances } from "../lb/noproxy.ts";
import { createReloader, type Reloader } from "../lb/reload.ts";
import { type RunningGateway, startGateway } from "../lb/server.ts";
import { openState, type StateBackend } from "../state/index.ts";
import { checkSocketPath, type DownAnswer, startControlServer } from "./control.ts";
import { claimFolder, refuseBusyMainPort, refuseRunningReaders } from "./guard.ts";
import { controlHandlers } from "./handlers.ts";
import { handOverGate } from "./hand-over-gate.ts";
import { awaitVerdict, olderThanThis, predecessorGone, predecessorWaitMs, probeBinary, runSuccessor, TAKEOVER_ENV, TAKEOVER_GRACE_ENV, takeoverFrom, verifyPredecessor } from "./handover.ts";
import { healthOf, type InstanceView, notReadyLines, reasonsNotReady, startVerdict } from "./health.ts";
import { InstanceSet } from "./instances.ts";
import { InstanceWork } from "./lanes.ts";
import { connectLiveState } from "./live.ts";
import { maskedLog, maskerOf } from "../observe/mask.ts";
import { createGwLogger } from "./logger.ts";
import { instanceLogRoom } from "./log-room.ts";
import { listenFailure } from "./listen-failure.ts";
import { NOTIFY_ENV, sdNotify } from "./notify.ts";
import { childRegistry, gwPidFile, readChildren, recordOf, removeRunFiles, stopLeftovers, stopRecorded } from "./orphans.ts";
import { gwPaths, instanceLog } from "./paths.ts";
import { type Registered, registerRunning, statusPageUrl } from "./registry.ts";
import { foreignListeners, steerNewConnectionsHere } from "./reuseport.ts";
import { startRotation } from "./rotate.ts";
import { selfCommand, selfDisplay, typed } from "./self.ts";
import { monoNow } from "./spawn.ts";
import type { Phase, StatusSources } from "./status.ts";
import { DEFAULT_TIMING, type Timing } from "./timing.ts";
import { restartUnanswering } from "./unanswering.ts";
import { startWatchdog } from "./watchdog.ts";

interface ServeOptions {
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
/** Beyond its grace period, how long an old gw may take to exit after an upgrade (for the state it wrote meanwhile). */
const PREDECESSOR_EXIT_MS = 30_000;
/** A stop signal this soon after the first is the same key press, delivered twice. */
export const SIGNAL_ECHO_MS = 1_000;
/** SIGHUP means reload (lb/reload.ts); before the reloader exists it must not kill gw (its default). */
const ignoreHup = () => {};

export interface UpgradeResult {
  readonly ok: boolean;
  /** The new gw's pid and what it says it is. */
  readonly pid?: number;
  readonly version?: string;
  readonly commit?: string;
  /** The version of the gw it replaced, when the new one is older: a rollback, said so. */
  readonly older?: string;
  readonly problem?: string;
}

/**
 * Runs until SIGINT/SIGTERM or `gw down` (resolves once every instance has stopped), or until
 * an upgrade has handed everything to a successor (resolves once the streams in flight ended;
 * the instances run on under the successor). Started with GW_TAKEOVER it is that successor.
 */
export async function serve(opts: ServeOptions): Promise<void> {
  // The real `gw up` (serving with its own environment) needs the LB's Bun settings (fetch cap,
  // allocator) before anything starts: re-exec with them (no-op when set: main.ts re-execs `gw up`
  // before loading it, and `gw up -d` starts its child with them).
  // Callers passing another environment (tests running serve in-process) are left alone.
  if (opts.env === process.env) ensureLbSettings();
  const predecessor = takeoverFrom(opts.env);
  // gw's own environment without the hand-over marker (a successor of ours gets its own).
  const env = { ...opts.env, [TAKEOVER_ENV]: undefined, [TAKEOVER_GRACE_ENV]: undefined };
  // Instances get the environment as it was: the LB adds its instances to this process's
  // NO_PROXY (lb/noproxy.ts), which is not theirs to inherit; systemd's notify socket is gw's.
  const childEnv = { ...env, [NOTIFY_ENV]: undefined };
  // gw's own probes of its instances (readiness, before the LB starts) must not go to a proxy.
  bypassProxyForInstances(opts.config);
  const timing = opts.timing ?? DEFAULT_TIMING;
  const paths = gwPaths(opts.config.dir);
  checkSocketPath(paths);
  if (predecessor) await verifyPredecessor(paths, predecessor);
  else await claimFolder(paths, opts.env);
  let config: Config = opts.config;
  // Every line of gw.log (and the terminal) passes the masker of the config running now.
  const log = maskedLog(createGwLogger({ file: paths.gwLog, terminal: opts.terminal }), () => maskerOf(config));
  if (!predecessor) {
    const leftovers = await stopLeftovers(paths, timing.killWaitMs);
    if (leftovers.length) log.warn(`stopped instances a previous gw left running: ${leftovers.join(", ")}`);
  }
  const port = opts.port ?? opts.config.global.mainPort;
  // Every gw listens with SO_REUSEPORT so that a successor can join it; only a deliberate
  // upgrade may: here the port must be free, and after binding no one else may be on it. Asked
  // before any file is written: a refused start changes nothing (the old setup's running
  // instances read instances/NAME.yaml, and reload it when it changes).
  if (!predecessor) await refuseBusyMainPort(port, opts.config.global.bindHost, opts.demo, opts.env);
  if (!predecessor) await refuseRunningReaders(opts.config);
  config = await withInstanceKeys(opts.config);
  await writeInstanceFiles(config, (p) => log.warn(formatProblem(p, config.dir)));
  const recorded = predecessor ? (await readChildren(paths)).children : [];
  if (!opts.demo && !predecessor) {
    const notes = await setupNotes(config);
    for (const e of notes.errors) log.error(e);
    for (const w of notes.warnings) log.warn(w);
    log.info(notes.info);
  }
  // A file a full disk refused (the pid file, the registry entry) is said once and written once
  // there is room: on a timer, or at once when a status asks (fs/rewrite.ts) — never while gw
  // stops or hands over: the successor's files then, or no one's.
  const idle = () => upgrading || stopping !== null;
  const rewrites = new Map<string, Rewrite>();
  const refused = (f: RecordFile, without: string, written: string) => {
    if (rewrites.has(f.file)) return;
    log.warn(`${f.problem()}; ${without}`);
    const done = () => {
      rewrites.delete(f.file);
      log.info(`${f.file} written: ${written}`);
    };
    rewrites.set(f.file, rewriteUntilDone({ write: f.write, file: f.file, idle, written: done }));
  };
  const pidFile = await gwPidFile(paths);
  const recordPid = () => {
    if (!pidFile.write()) refused(pidFile, "gw serves without it", "this gw is recorded again");
  };
  recordPid();
  // A successor starts its watchdog once the hand-over is committed (until then the instances are not its own).
  let watchdog = predecessor ? null : startWatchdog(paths, config.file, env);

  let phase: Phase = "starting";
  let gateway: RunningGateway | null = null;
  let state: StateBackend | null = null;
  let reloader: Reloader<InstanceWork> | null = null;
  let registered: Registered | null = null;
  const stopRewrites = () => {
    for (const r of rewrites.values()) r.stop();
  };
  const startedAt = monoNow(); // gw's uptime, as an instance's (spawn.ts)
  const registry = childRegistry(paths, () => set.list().flatMap((s) => (s.child ? [{ name: s.name, pid: s.child.pid, launch: set.launchKeyOf(s) }] : [])), log);
  const set = new InstanceSet(config, {
    timing,
    env: childEnv,
    log,
    logFile: (name) => instanceLog(paths, name),
    childrenChanged: registry.update,
    availability: (name, a) => gateway?.availability(name, a),
  });
  const writes = () => {
    for (const r of rewrites.values()) r.ask(); // with room back, what is said next is true now (as gw.log's problem() tries)
    return [log.problem(), logRoom.problem(), pidFile.problem(), registered?.problem()].filter((p) => p !== undefined);
  };
  const sources = (): StatusSources => ({ config, set, gateway, phase, startedAt, demo: opts.demo, writes });
  const views = (): InstanceView[] =>
    config.instances.map((i) => {
      const s = set.get(i.name);
      return { name: i.name, managed: i.managed, state: s?.state ?? "stopped", problem: s?.problem ?? "", problemOnceStopped: s?.problemOnceStopped };
    });
  const logRoom = instanceLogRoom(paths.logsDir, () => set.list().map((s) => s.name), log);
  const stopRotation = startRotation(() => {
    logRoom.check(); // on the rotation's clock: the instances' logs filling a disk are said within a check
    return [paths.gwLog, ...set.list().map((s) => instanceLog(paths, s.name))];
  }, timing, log.warn);
  const stopUnansweredRestarts = restartUnanswering({
    unanswering: () => gateway?.instancesDown() ?? [],
    running: (name) => set.get(name)?.state === "ready",
    restart: (name) => set.restart(name),
    warn: log.warn,
    afterMs: timing.unansweredRestartMs,
  });
  /** The supervisor's own timers: none may touch an instance once gw stops or hands them over. */
  const stopTimers = () => {
    stopRotation();
    stopRewrites();
    stopUnansweredRestarts();
  };

  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let stopping: Promise<void> | null = null;
  /** A successor's: when the predecessor handed over (its verdict came), and whether it has exited since. */
  let handedOverAt: number | undefined;
  let predecessorLeft = false;
  let firstSignalAt = 0;
  // A successor's window is open from its start until the old gw's verdict; the old gw's, from
  // the instances' suspension until the successor's outcome (upgrade below).
  const handOver = handOverGate(predecessor !== null);
  const signalName = (sig: NodeJS.Signals) => (sig === "SIGINT" ? "Ctrl-C" : sig);
  const onSignal = (sig: NodeJS.Signals) => {
    if (handOver.hold(signalName(sig))) return void log.info(`${signalName(sig)}: gw is handing over to a new gw (gw upgrade); it stops once that has ended`);
    if (!stopping) {
      firstSignalAt = monoNow();
      return void stop();
    }
    // One key press can arrive twice (under `bun run`: bun forwards it, and the terminal sends it
    // to the whole process group): only a later, deliberate second Ctrl-C cuts the streams.
    if (monoNow() - firstSignalAt < SIGNAL_ECHO_MS) return;
    cutStreams(signalName(sig));
  };
  /** Cut the streams still in flight now, each told that a second `asked` (Ctrl-C, gw down) did it: their grace period has not ended. */
  const cutStreams = (asked: string) => {
    log.warn("stopping now: streams still in flight are cut");
    void gateway?.stop(0, `gw stopped: a second ${asked} cut this answer short`);
  };
  // `gw down`: as a first Ctrl-C, and asked again while stopping, as a second one. Asked is
  // stopping already: the stop itself begins a turn later, once the answer is out.
  let downAsked = false;
  const down = (): DownAnswer => {
    const streams = gateway?.stats().openStreams ?? 0;
    // Asked again once the window has closed (commands/down.ts), it reaches the gw that owns the instances then.
    if (handOver.isOpen) return { cut: false, streams, handingOver: true, ...(predecessor && handedOverAt === undefined && { from: { pid: predecessor.pid, startTime: predecessor.startTime } }) };
    const again = downAsked || stopping !== null;
    downAsked = true;
    setTimeout(again ? () => cutStreams("gw down") : () => void stop(), 0);
    if (again) return { cut: true, streams };
    const previous = waitsFor();
    return { cut: false, streams, graceMs: config.global.shutdownGraceMs, ...(previous && { previous }) };
  };
  /**
   * The previous gw (an upgrade's) that a stop now would wait for: it may still be letting its
   * streams finish on these very instances, up to its own limit from the hand-over.
   */
  const waitsFor = () => (predecessor && !predecessorLeft ? { pid: predecessor.pid, waitMs: predecessorWaitMs(handedOverAt ?? monoNow(), predecessor.graceMs ?? config.global.shutdownGraceMs, monoNow()) } : undefined);
  const stop = () =>
    (stopping ??= (async () => {
      phase = "stopping";
      set.closing();
      sdNotify("STOPPING=1", opts.env);
      reloader?.close();
      await registered?.remove(); // first: cld must not pick a gw that is going away
      stopTimers();
      const grace = config.global.shutdownGraceMs;
      const streams = gateway?.stats().openStreams ?? 0;
      const cut = streams && opts.terminal ? " — Ctrl-C again to cut them" : "";
      log.info(`stopping: ${streams ? `letting ${streams} stream(s) in flight finish (up to ${grace / 1000} s${cut}), then ` : ""}stopping instances`);
      await gateway?.stop(grace);
      // Stopped soon after an upgrade: the previous gw may still be letting its own streams finish
      // on these very instances — a late keep-alive request gets it a whole grace period of its
      // own (lb/server.ts handOff). They stop once it is gone, or once its own limit has passed.
      const previous = waitsFor();
      if (predecessor && previous && !(await predecessorGone(predecessor, 0))) {
        log.info(`waiting for the previous gw (pid ${previous.pid}) to let its streams finish before the instances stop (up to ${Math.ceil(previous.waitMs / 1000)} s)`);
        await predecessorGone(predecessor, previous.waitMs);
      }
      await state?.close(); // after the last request: its changes are written too
      await set.stopAll();
      await registry.flushed();
      // Said before the control socket closes, so a `gw logs -f` cut by it finds the line in gw.log.
      log.info("stopped");
      control.stop();
      await removeRunFiles(paths);
      await watchdog?.stop();
      await finish();
    })());
  const finish = async () => {
    await log.close();
    for (const sig of SIGNALS) process.off(sig, onSignal); // kept until here: a second Ctrl-C must not orphan instances
    process.off("SIGHUP", ignoreHup);
    resolveDone();
  };

  /** A successor whose hand-over did not happen: leave instances and run files to the predecessor. */
  async function letGo(why: string): Promise<void> {
    phase = "stopping";
    log.warn(`not taking over: ${why}; this gw exits and leaves everything to gw ${predecessor?.pid}`);
    await registered?.remove();
    stopTimers();
    set.releaseAll();
    await gateway?.handOff(config.global.shutdownGraceMs);
    await state?.close();
    control.stop();
    await finish();
    return done;
  }

  // --- the predecessor's side of an upgrade (handover.ts) ---
  let upgrading = false;
  const upgrade = async (binary: string | undefined): Promise<UpgradeResult> => {
    if (phase !== "serving" || upgrading || stopping) return { ok: false, problem: `gw is ${upgrading ? "already upgrading" : phase}; try again once it serves` };
    upgrading = true;
    let paused = false;
    try {
      const program = binary ? [binary] : selfCommand();
      const probe = await probeBinary(program);
      if ("error" in probe) return { ok: false, problem: probe.error };
      const self = await recordOf("gw", process.pid);
      if (!self) return { ok: false, problem: "gw cannot read its own process record" };
      const argv = [...program, "up", "-c", config.file, ...(opts.port !== undefined && !opts.demo ? ["--port", String(opts.port)] : [])];
      const older = olderThanThis(probe.version);
      log.info(`upgrading to ${probe.version} (${probe.commit.slice(0, 12)})${older ? `, older than this gw's ${older}` : ""}: starting ${argv[0]}`);
      // No reload from here on (the successor reads the file itself), and what the last one
      // started on the instances ends first: an instance started after the hand-over would be
      // nobody's.
      paused = true;
      await reloader?.pause("gw is upgrading; the new gw reads the config as it starts (gw reload after that, if still needed)");
      if (applied.work.running) log.info("upgrade: the last reload's restarts end first (a drain lasts up to shutdown_grace_ms)");
      await applied.work.ended();
      // A gw restart asked for before the upgrade is done first, as the user asked: handed over
      // halfway, the instance would be left to nobody and the restart end without happening.
      // (Restarts asked for from now on are refused: handlers.ts.)
      if (set.restarting) log.info("upgrade: the gw restart under way ends first (a drain lasts up to shutdown_grace_ms)");
      await set.restartsEnded();
      if (stopping) return { ok: false, problem: "gw began stopping while the upgrade waited; nothing was upgraded" };
      handOver.open();
      let out: { readonly ok: boolean; readonly pid?: number; readonly problem?: string };
      try {
        set.suspendAll();
        await registry.flushed();
        registry.freeze();
        out = await runSuccessor(paths, argv, env, { ...self, graceMs: config.global.shutdownGraceMs }, () => {});
      } catch (err) {
        out = { ok: false, problem: `the new gw could not be started: ${(err as Error).message}; this gw keeps serving` };
      }
      const stopAsked = handOver.close();
      if (!out.ok) {
        // Take back what the successor may have taken: pid file, control socket, instances.json.
        recordPid();
        // A new socket at the path; the old one still carries this very request (stopping it
        // would cut the answer and unlink the new path), so it is only let go.
        const old = control;
        control = await startControlServer(paths, handlers);
        old.release();
        registry.freeze(false);
        registry.update();
        set.resumeAll();
        log.warn(`upgrade failed: ${out.problem}`);
        if (stopAsked) {
          log.info(`${stopAsked} came during the hand-over: stopping now`);
          void stop();
        }
        return { ok: false, problem: out.problem };
      }
      const successor = out.pid!; // an outcome that is ok has one
      void retire(successor);
      if (stopAsked) {
        log.info(`${stopAsked} came during the hand-over: the new gw (pid ${successor}) owns the instances now and is told to stop`);
        try {
          process.kill(successor, "SIGTERM");
        } catch {} // gone already: nothing left to stop
      }
      paused = false; // retire closes the reloader
      return { ok: true, pid: successor, version: probe.version, commit: probe.commit, ...(older && { older }) };
    } finally {
      upgrading = false;
      if (paused) reloader?.resume();
    }
  };
  /** After the hand-over: finish the streams in flight, leave instances and run files to the successor. */
  const retire = (successor: number) =>
    (stopping ??= (async () => {
      phase = "stopping";
      reloader?.close();
      await registered?.remove(); // the successor has its own entry
      stopTimers();
      await watchdog?.stop();
      set.releaseAll();
      const streams = gateway?.stats().openStreams ?? 0;
      log.info(`handed over to gw ${successor}${streams ? `; letting ${streams} stream(s) in flight finish` : ""}, then exiting — the instances keep running`);
      if (opts.terminal) log.info(`gw continues in the background as pid ${successor}: ${selfDisplay()} status · logs -f · down`);
      await gateway?.handOff(config.global.shutdownGraceMs);
      await state?.close(); // its last changes reach the file before the successor reads it again
      control.release();
      log.info("handed over; exiting");
      await finish();
    })());

  const handlers = controlHandlers({ paths, sources, set, drainer: () => gateway, down, reloader: () => reloader, upgrade, upgrading: () => upgrading || handOver.isOpen });
  let control = await startControlServer(paths, handlers);
  for (const sig of SIGNALS) process.on(sig, onSignal);
  process.on("SIGHUP", ignoreHup);

  const managed = set.list().length;
  // The state file loads (or Redis connects) while the instances start.
  const opening = openState(config, log);
  let changed: string[] = [];
  /** A successor's: the stop asked for while it waited for the verdict (done once it owns the instances). */
  let stopHeld: string | undefined;
  if (predecessor) {
    const taken = await set.adopt(recorded);
    changed = taken.changed;
    log.info(`gw ${process.pid}: taking over from gw ${predecessor.pid} — adopted ${taken.adopted.length ? taken.adopted.join(", ") : "no instances"} (config ${config.file})`);
  } else {
    log.info(`gw ${process.pid}: starting ${managed} instance${managed === 1 ? "" : "s"} (config ${config.file})`);
    await firstStarts(set.startAll(), views, timing, () => stopping !== null);
  }
  // A successor serves what its predecessor served: it never gives up (and stops instances) here.
  const verdict = predecessor ? "serve" : await settle(views, timing, () => stopping !== null);
  state = await opening;
  if (stopping) {
    await state.close();
    return done;
  }
  if (verdict === "give-up") {
    // Each instance's reason was said as it happened; the end says them once more, together — each
    // distinct reason once — as the one thing left on the screen (a detached gw's stderr is gw.log).
    const reasons = reasonsNotReady(views());
    const refusal = `no instance can serve, so gw stopped:${reasons.length === 1 ? ` ${reasons[0]}` : `\n  ${reasons.join("\n  ")}`}`;
    if (opts.terminal) log.record(refusal); // detached, its stderr is gw.log: the refusal lands there itself
    await stop(); // closes gw.log
    throw new CliError(refusal, 1, `fix ${reasons.length === 1 ? "that" : "each"} and run ${typed("gw up")} again`);
  }
  try {
    // `port` only from --port: a main_port edit must be told it waits for a restart (exposure.ts).
    gateway = startGateway(config, { port: opts.port, state, reusePort: true, log, health: () => healthOf(views()), look: async (name) => set.get(name)?.look() });
    // Instances still on their way (a respawn after a crash at start): their requests wait for them.
    for (const s of set.list()) gateway.availability(s.name, s.availability);
  } catch (err) {
    log.error(`the load balancer could not listen on port ${port}: ${(err as Error).message}`);
    // Handing over, the old gw says it keeps serving when it reports this line as the reason.
    if (predecessor) await letGo(`could not listen on port ${port}`);
    else await stop();
    throw new CliError(listenFailure(err, config.global.bindHost, port));
  }
  if (predecessor) {
    if (!(await steerNewConnectionsHere(port))) log.warn("could not steer new connections to this gw (needs Linux): connections queued on the old gw as it closes may be reset");
  } else if ((await foreignListeners(port)) > 0) {
    log.error(`another process listens on port ${port} too (it set SO_REUSEPORT): refusing to share it`);
    await stop();
    throw new CliError(`port ${port} of the load balancer is shared with another process — stop it, or change [global] main_port`);
  }
  registered = await registerRunning({ kind: "up", config: config.file, url: gateway.url, demo: opts.demo }, opts.env);
  if (stopping) await registered.remove(); // a stop came while the entry was being written
  else if (registered.problem()) refused(registered, "cld does not find this gw until it is written", "cld finds this gw again"); // cld finds a gw by its entry
  void connectLiveState(sources, log);
  const gw = selfDisplay();
  const ready = set.list().filter((s) => s.state === "ready").length;
  // Only instances given by url (a second replica, a relay): none to start, nothing "0/0 ready".
  const external = config.instances.length - managed;
  const instances = managed ? `${ready}/${managed} instances ready${external ? ` (and ${external} by url)` : ""}` : `${external} instance${external === 1 ? "" : "s"} by url`;
  log.info(`serving on ${describeListening(gateway.listening)} — ${instances}; status page ${statusPageUrl(gateway.url)}; ${gw} status · ${gw} logs -f · ${gw} down`);
  const unready = notReadyLines(views());
  if (unready.length) for (const line of ["not ready (their routes fail over to the other instances meanwhile):", ...unready]) log.warn(line);
  if (opts.banner) for (const line of opts.banner(gateway.url).split("\n")) log.info(line);
  phase = "serving"; // after the banner: `up -d` returns on this and prints gw.log up to here
  const notifyReady = () => sdNotify(`READY=1\nMAINPID=${process.pid}\nSTATUS=serving on ${gateway?.url}`, opts.env);
  if (!predecessor) notifyReady();
  else {
    const verdict = await awaitVerdict(predecessor);
    stopHeld = handOver.close();
    if (verdict === "abort") return letGo("the old gw keeps serving");
    notifyReady(); // only now: systemd must not follow a successor that may still let go
    handedOverAt = monoNow();
    log.info(`took over from gw ${predecessor.pid}`);
    // What the old gw changed while finishing its streams: in the state file once it has exited.
    void predecessorGone(predecessor, (predecessor.graceMs ?? config.global.shutdownGraceMs) + PREDECESSOR_EXIT_MS).then((gone) => {
      predecessorLeft ||= gone;
      if (gone && !stopping) state?.refresh();
    });
    watchdog = startWatchdog(paths, config.file, env);
    const gone = recorded.filter((r) => !set.get(r.name));
    if (gone.length) log.info(`stopped instances no longer in the config: ${(await stopRecorded(paths, gone, timing.killWaitMs)).join(", ")}`);
    for (const name of changed) {
      log.info(`${name}: port or command changed, restarting`);
      await set.get(name)?.restart();
    }
    void set.startAll();
  }

  /** The last config applied, as loaded, and the instance work it left. */
  let applied = { loaded: opts.config, work: new InstanceWork() };
  reloader = createReloader({
    file: config.file,
    includes: config.includes,
    log,
    apply: async (next) => {
      const keyed = await withInstanceKeys(next);
      // The gateway refuses a config that would open it (lb/exposure.ts), and an instance file
      // may not be writable: then nothing may change (swapWithInstanceFiles).
      const notes = await swapWithInstanceFiles(keyed, () => {
        const n = gateway?.reload(keyed) ?? [];
        // In the same turn as the swap: nothing answers on an added or moved instance's port until
        // it is (re)launched, so its requests wait for it from now on (streams on an old port run on).
        for (const name of set.arriving(keyed)) gateway?.availability(name, "away");
        return n;
      });
      config = keyed;
      // The instances follow in the background (a drain lasts up to shutdown_grace_ms): the next
      // edit is swapped in at once rather than after it. `gw reload` follows this work — and, for
      // the same edit applied again (the file watcher's reload came first), that one's still under way.
      let work = set.reconcile(keyed, gateway ?? undefined);
      if (Bun.deepEquals(next, applied.loaded)) work = work.after(applied.work);
      applied = { loaded: next, work };
      return { notes, work };
    },
  });
  if (stopHeld) {
    log.info(`${stopHeld} came during the hand-over: stopping now that the instances are this gw's`);
    void stop();
  }
  return done;
}

/**
 * The instances' first starts, in parallel: until each is ready or has failed, but once one is
 * ready, no longer than stragglerWaitMs — the others join as they answer (requests for them wait,
 * their routes fail over meanwhile), rather than every route waiting for the slowest.
 */
async function firstStarts(all: Promise<unknown>, views: () => InstanceView[], timing: Timing, stopped: () => boolean): Promise<void> {
  let started = false;
  void all.finally(() => (started = true));
  let readyAt: number | undefined;
  while (!started && !stopped()) {
    if (readyAt === undefined && views().some((v) => v.state === "ready")) readyAt = monoNow();
    if (readyAt !== undefined && monoNow() - readyAt >= timing.stragglerWaitMs) return;
    await Promise.race([all, Bun.sleep(SETTLE_POLL_MS)]);
  }
}

/**
 * After the first start: when nothing is ready yet but an instance is still starting or about to
 * restart, wait (up to readyTimeoutMs) for one to come up or for all to be beyond hope. The LB
 * would serve nothing meanwhile, so this delays nothing a client could use.
 */
async function settle(views: () => InstanceView[], timing: Timing, stopped: () => boolean): Promise<"serve" | "give-up"> {
  const deadline = monoNow() + timing.readyTimeoutMs;
  for (;;) {
    const v = startVerdict(views(), monoNow() >= deadline);
    if (v.kind !== "wait" || stopped()) return v.kind === "give-up" ? "give-up" : "serve";
    await Bun.sleep(SETTLE_POLL_MS);
  }
}

const SETTLE_POLL_MS = 100;
