// Every wait the supervisor makes, in one place, in the order they happen in an instance's life.
// Tests pass a shorter Timing; production uses DEFAULT_TIMING (shutdown grace comes from the config).

export interface Timing {
  /** Longest wait between probes of a fresh instance's /healthz (the first waits are shorter: ready.ts). */
  readonly readyPollMs: number;
  /** An instance that has not answered by then is reported "unready" (it keeps running and being probed). */
  readonly readyTimeoutMs: number;
  /**
   * gw up's first start: once one instance answers, how long the others may take before the LB
   * serves without them (they join as they answer) — one hung instance kept every route from
   * serving for readyTimeoutMs.
   */
  readonly stragglerWaitMs: number;
  /** First restart delay after an exit; doubles with each quick exit in a row... */
  readonly backoffMinMs: number;
  /** ...up to this. */
  readonly backoffMaxMs: number;
  /** An instance that stayed up this long counts as healthy again: the backoff starts over. */
  readonly stableUptimeMs: number;
  /** This many exits inside crashLoopWindowMs mean state "crashloop"... */
  readonly crashLoopExits: number;
  readonly crashLoopWindowMs: number;
  /** ...retried only this often until it stays up for stableUptimeMs. */
  readonly crashLoopRetryMs: number;
  /**
   * A port someone else holds is looked at again this often. Waiting for it is no exit: it grows
   * no backoff and makes no crash loop, so the instance starts soon after the port is freed.
   */
  readonly portRetryMs: number;
  /**
   * An instance adopted at an upgrade is not this process's child: its end is seen by looking at
   * /proc this often (and at once when the LB meets a refused connection to it).
   */
  readonly adoptedPollMs: number;
  /** On stop: after the LB's grace for streams in flight, SIGTERM each instance group; SIGKILL after this. */
  readonly killWaitMs: number;
  /**
   * A ready instance whose probes have failed this long (hung or stopped: it runs but does not
   * answer) is restarted (unanswering.ts). Its probes start once a request to it fails, so a
   * hung instance costs one request its first-byte timeout, then this.
   */
  readonly unansweredRestartMs: number;
  /** How often log sizes are checked for rotation. */
  readonly rotateCheckMs: number;
  readonly logMaxBytes: number;
  /** Rotated generations kept: X.log.1 … X.log.N. */
  readonly logKeep: number;
}

export const DEFAULT_TIMING: Timing = Object.freeze({
  readyPollMs: 200,
  readyTimeoutMs: 30_000,
  stragglerWaitMs: 5_000,
  backoffMinMs: 500,
  backoffMaxMs: 30_000,
  stableUptimeMs: 60_000,
  crashLoopExits: 5,
  crashLoopWindowMs: 60_000,
  crashLoopRetryMs: 5 * 60_000,
  portRetryMs: 2_000,
  adoptedPollMs: 250,
  killWaitMs: 10_000,
  unansweredRestartMs: 30_000,
  rotateCheckMs: 30_000,
  logMaxBytes: 10 * 1024 * 1024,
  logKeep: 3,
});

/** `gw up -d` gives up on its detached child after this (instances get readyTimeoutMs each, in parallel). */
export const DAEMON_START_TIMEOUT_MS = DEFAULT_TIMING.readyTimeoutMs + 30_000;

/**
 * A control request whose answer has not begun by then meets a gw that is stopped (SIGSTOP, a
 * debugger), wedged or busy: every endpoint sends its head at once (a streamed one with an empty
 * line), so a live gw, even beside busy CPUs, begins within milliseconds. Bodies (logs -f, a
 * reload's progress) take as long as they take. Looked at again this often while it is busy.
 */
export const CONTROL_ANSWER_MS = 5_000;

/**
 * A silent gw is first looked at this long before CONTROL_ANSWER_MS: the CPU its event loop uses
 * until the mark tells busy from wedged (control-silence.ts).
 */
export const SILENCE_SAMPLE_MS = 1_000;

/**
 * How long a control command waits for a gw whose event loop is busy (it runs, but has not begun
 * its answer): a reload of a big config on a loaded machine takes seconds, not a minute.
 */
export const BUSY_ANSWER_MS = 60_000;
