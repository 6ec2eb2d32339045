// The local control socket: HTTP over a unix socket in .gw/, so only this user can stop or
// reconfigure gw. The server side runs inside `gw up`; the client side is every control command
// (status, down, restart, reload, logs).
import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import { CliError } from "../cli/errors.ts";
import { ensurePrivateDir, refuseLink } from "../fs/private.ts";
import { ControlSilent, watchSilence } from "./control-silence.ts";
import type { RestartProgress } from "./instances.ts";
import type { GwPaths } from "./paths.ts";
import { describeSeveral, listRunning, type RunningGw } from "./registry.ts";
import { typed } from "./self.ts";
import type { StatusReport } from "./status.ts";
import { TAIL_MARK_HEADER } from "./tail-mark.ts";
import { BUSY_ANSWER_MS, CONTROL_ANSWER_MS, DAEMON_START_TIMEOUT_MS, SILENCE_SAMPLE_MS } from "./timing.ts";

/** What a `gw down` set going: a graceful stop, or (asked again while stopping) the cut of the streams still open. */
export interface DownAnswer {
  readonly cut: boolean;
  /** Streams in flight when it was asked. */
  readonly streams: number;
  /** How long they may still take (a graceful stop). */
  readonly graceMs?: number;
  /**
   * Soon after an upgrade: the previous gw, still letting its streams finish on these instances.
   * The instances stop once it has exited, which it does within `waitMs`.
   */
  readonly previous?: { readonly pid: number; readonly waitMs: number };
  /** An upgrade is handing over: nothing stops yet; asked again once it has ended, the gw that owns the instances then stops. */
  readonly handingOver?: boolean;
  /**
   * A new gw waiting for its verdict: the old gw that hands over to it. While either lives, one of
   * them will own the instances and answer; with both gone, none will (the new one died first).
   */
  readonly from?: { readonly pid: number; readonly startTime: number };
}

export interface ControlHandlers {
  status(): StatusReport;
  /**
   * Begin the shutdown on the next turn (the answer goes out before gw stops) — or, asked again
   * while stopping, cut the streams still in flight, as a second Ctrl-C does. Says which.
   */
  down(): DownAnswer;
  /** Null when the instance is unknown; `progress` hears each step (an NDJSON line to the client). */
  restart(name: string | undefined, progress: (p: unknown) => void): Promise<unknown[] | null>;
  /** `progress` hears the instances the reload relaunches (NDJSON lines, as for restart). */
  reload(progress: (p: RestartProgress) => void): Promise<ReloadAnswer>;
  /** NDJSON lines `{name, line}` (TAIL_END after the lines read back, with `markTail`); null when the name is unknown. */
  logs(name: string | undefined, lines: number, follow: boolean, signal: AbortSignal, markTail: boolean): ReadableStream<Uint8Array> | null;
  /** Hand over to the gw binary at `binary` (default: this gw's own program again). */
  upgrade(binary: string | undefined): Promise<{ ok: boolean; problem?: string }>;
  /** `gw route explain` on the running gateway's live state; null while the LB does not serve yet. */
  explain(input: ExplainRequest): Promise<unknown> | null;
  /** The instances gw runs, for the hint when a request names another. */
  instanceNames(): string[];
  /** Write the request log's queued records (gw usage, before it reads the day files). */
  flushLog(): Promise<void>;
}

/** The last line of `POST /reload`. */
export interface ReloadAnswer {
  readonly ok: boolean;
  readonly problems: string[];
}

/** What `gw route explain` sends: the body as text (the LB's own intake reads it), where it is posted, the session. */
export interface ExplainRequest {
  readonly body: string;
  readonly path?: string;
  readonly session?: string;
}

const json = (body: unknown, status = 200) => Response.json(body, { status });

/** sun_path is 108 bytes on Linux, with the terminating NUL. */
const MAX_SOCKET_PATH = 107;

export function checkSocketPath(paths: GwPaths): void {
  const n = Buffer.byteLength(paths.socket);
  if (n > MAX_SOCKET_PATH) {
    throw new CliError(`the control socket path is too long for a unix socket (${n} > ${MAX_SOCKET_PATH} bytes): ${paths.socket}`, 1, "move providers.toml to a shorter directory");
  }
}

/**
 * Listen on a unix socket that nobody else can reach at any moment: it is created inside a
 * directory only this user may enter (0700, checked first), and under umask 177, so the socket
 * itself is born without group or other bits — there is no window between listen and a chmod.
 * Bun.serve binds synchronously, so the process-wide umask is changed for no other code.
 */
export function listenPrivately<T>(socket: string, listen: (unix: string) => T): T {
  ensurePrivateDir(dirname(socket));
  const umask = process.umask(0o177); // sockets are created 0777 & ~umask: 0600
  try {
    return listen(socket);
  } finally {
    process.umask(umask);
  }
}

interface ControlServer {
  /** Stop and remove the socket file. */
  stop(): void;
  /**
   * Let this process exit without closing the server: after an upgrade the socket path is the
   * successor's, and stopping would unlink it (Bun removes the path, not its own socket).
   */
  release(): void;
}

export async function startControlServer(paths: GwPaths, h: ControlHandlers): Promise<ControlServer> {
  checkSocketPath(paths);
  ensurePrivateDir(paths.stateDir);
  await rm(paths.socket, { force: true });
  // Ends the `logs -f` streams when this server is let go (a hand-over): a stream that polls its
  // files kept the old gw alive for as long as someone followed; the follower goes on with the successor.
  const released = new AbortController();
  const server = listenPrivately(paths.socket, (unix) => Bun.serve({
    unix,
    development: false,
    // A rolling restart and an upgrade keep a request open for long: per-request timeout(req, 0)
    // does not keep Bun from closing a unix-socket connection after 10 s, idleTimeout 0 does
    // (Bun's types allow it for TCP only; it works on unix sockets).
    ...({ idleTimeout: 0 } as object),
    async fetch(req, srv) {
      srv.timeout(req, 0); // `logs -f` and a rolling restart keep a request open for long
      const url = new URL(req.url);
      const name = url.searchParams.get("name") || undefined;
      const route = `${req.method} ${url.pathname}`;
      if (route === "GET /status") return json(h.status());
      if (route === "POST /flush-log") {
        await h.flushLog();
        return json({ flushed: true });
      }
      if (route === "POST /down") {
        const answer = h.down();
        return json({ stopping: !answer.handingOver, pid: process.pid, ...answer });
      }
      const valid = (extra: string[] = []) => `valid names: ${[...extra, ...h.instanceNames()].join(", ") || "(none)"}`;
      if (route === "POST /restart") {
        if (name && !h.instanceNames().includes(name)) return json({ error: `no managed instance '${name}'`, hint: valid() }, 404);
        return ndjson(async (line) => line({ results: await h.restart(name, line) }));
      }
      if (route === "POST /reload") return ndjson(async (line) => line(await h.reload(line)));
      if (route === "POST /explain") {
        const input = explainRequest(await req.json().catch(() => null));
        if (!input) return json({ error: "explain wants {body, path?, session?}" }, 400);
        const out = h.explain(input);
        return out ? json(await out) : json({ error: "gw is starting: its load balancer does not serve yet", hint: "run gw route explain again once gw status says serving" }, 409);
      }
      // Streamed, for its head to go out at once: the answer waits for the successor to serve.
      if (route === "POST /upgrade") return ndjson(async (line) => line(await h.upgrade(url.searchParams.get("binary") || undefined)));
      if (route === "GET /logs") {
        const n = Number(url.searchParams.get("n") ?? 20);
        const markTail = url.searchParams.has("mark");
        const body = h.logs(name, Number.isFinite(n) ? n : 20, url.searchParams.has("follow"), AbortSignal.any([req.signal, released.signal]), markTail);
        const headers: Record<string, string> = { "content-type": "application/x-ndjson", ...(markTail ? { [TAIL_MARK_HEADER]: "1" } : {}) };
        return body ? new Response(headAtOnce(body), { headers }) : json({ error: `no log for '${name}'`, hint: valid(["gw"]) }, 404);
      }
      return json({ error: `unknown control request ${route}` }, 404);
    },
    error: (err) => json({ error: err.message }, 500),
  }));
  return {
    stop: () => void server.stop(true),
    release: () => {
      released.abort();
      server.unref();
    },
  };
}

function explainRequest(v: unknown): ExplainRequest | undefined {
  const o = v as Record<string, unknown> | null;
  if (!o || typeof o.body !== "string") return undefined;
  const opt = (x: unknown) => (typeof x === "string" ? x : undefined);
  return { body: o.body, path: opt(o.path), session: opt(o.session) };
}

/**
 * An answer that reports progress as it happens: one JSON object per line, from `run`. A failure
 * ends it with `{"error": …}` (the client raises it as the command's one-line error).
 */
function ndjson(run: (line: (o: unknown) => void) => Promise<void>): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async start(ctrl) {
      ctrl.enqueue(EMPTY_LINE); // see headAtOnce
      const line = (o: unknown) => ctrl.enqueue(enc.encode(`${JSON.stringify(o)}\n`));
      try {
        await run(line);
      } catch (err) {
        line({ error: (err as Error).message });
      }
      ctrl.close();
    },
  });
  return new Response(body, { headers: { "content-type": "application/x-ndjson" } });
}

const EMPTY_LINE = new TextEncoder().encode("\n");

/**
 * `body` after an empty line (ndjsonLines skips it). Bun sends a streamed answer's head only with
 * its first chunk: `logs -f` with nothing new to show, or a reload still writing files, would
 * otherwise look to the client like a gw that does not answer (CONTROL_ANSWER_MS).
 */
function headAtOnce(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    start: (ctrl) => ctrl.enqueue(EMPTY_LINE),
    async pull(ctrl) {
      const chunk = await reader.read();
      if (chunk.done) ctrl.close();
      else ctrl.enqueue(chunk.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/**
 * The running gw closed a streamed answer before its end: it stopped (gw down, Ctrl-C, a crash)
 * or handed over to a successor (gw upgrade) while `gw logs -f`, a restart or a reload was
 * following it. Bun's reset error with its fetch details is no message for a user.
 */
export class ControlCut extends CliError {
  constructor() {
    super("gw stopped or was upgraded before its answer was complete", 1, "gw status says whether it runs; gw logs shows its last lines");
    this.name = "ControlCut";
  }
}

/** The JSON objects of an NDJSON answer, as they arrive; ControlCut when gw goes away midway. */
export async function* ndjsonLines<T>(body: ReadableStream<Uint8Array>): AsyncGenerator<T> {
  let rest = "";
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const chunk = await reader.read().catch(() => {
        throw new ControlCut();
      });
      if (chunk.done) break;
      const lines = (rest + decoder.decode(chunk.value, { stream: true })).split("\n");
      rest = lines.pop() ?? "";
      for (const l of lines) if (l) yield JSON.parse(l) as T;
    }
  } finally {
    reader.cancel().catch(() => {}); // a reader that stops early (a break) lets go of the stream
  }
  if (rest.trim()) yield JSON.parse(rest) as T;
}

/**
 * What to do when no gw runs here: start one — unless this machine uses a team's gw ($GW_URL),
 * where "start it" would start a local demo nobody asked for.
 */
export function startHint(): string {
  const team = process.env.GW_URL?.trim();
  if (!team) return `start it with: ${typed("gw up -d")}`;
  return `these commands talk to a gw on this machine; the team's gw at $GW_URL (${team}) is its server's: its status page is ${team.replace(/\/+$/, "")}/_gw/ (with its admin_key)`;
}

/**
 * The one-line answer of every control command when no gw runs for this config. When gws run for
 * other configs (typed from a folder without providers.toml, say), it names them: "not running"
 * alone would read as "your gw is down" while it serves on.
 */
export class NotRunningError extends CliError {
  constructor(
    paths: GwPaths,
    readonly others: readonly RunningGw[] = [],
    /** A `gw lb` serving this very config: it runs, but has no control socket to ask. */
    readonly lb?: RunningGw,
  ) {
    const [one] = others;
    const elsewhere = others.length === 0 ? "" : others.length === 1 ? `; the gw running (pid ${one!.pid}) serves ${one!.config}` : `; ${describeSeveral(others)}`;
    const hint = others.length === 0 ? startHint() : others.length === 1 ? `name it with: -c ${one!.config}` : "name one with: -c FILE";
    super(
      lb ? `gw lb (pid ${lb.pid}) serves ${lb.config} on ${lb.url}, and only gw up answers this command` : `gw is not running for ${paths.dir}${elsewhere}`,
      1,
      lb ? `its status page is ${lb.url}/_gw/; stop it where it runs (Ctrl-C) or with: kill ${lb.pid}` : hint,
    );
  }
}

/**
 * A request to the running gw; NotRunningError when nothing listens on the socket, ControlSilent
 * when its answer has not begun in time and gw is not busy (the body, once begun, may take its time).
 * `waitBusy` false: a busy gw is no reason to wait either (see controlProbe).
 */
export async function controlRequest(paths: GwPaths, path: string, init: RequestInit = {}, waitBusy = true): Promise<Response> {
  refuseForeignSocket(paths);
  let res: Response;
  const silent = new AbortController();
  const limits = { firstMs: answerDeadline(path), sampleMs: SILENCE_SAMPLE_MS, everyMs: CONTROL_ANSWER_MS, busyMs: waitBusy ? BUSY_ANSWER_MS : 0 };
  const watch = watchSilence(paths, limits, (err) => silent.abort(err ?? "gone"));
  try {
    // A fresh connection each time: a pooled one may lead to a gw that has since handed its
    // socket path over to a successor (an upgrade), and control requests are rare.
    res = await fetch(`http://gw${path}`, { ...init, unix: paths.socket, keepalive: false, signal: silent.signal } as RequestInit);
  } catch {
    if (silent.signal.reason instanceof ControlSilent) throw silent.signal.reason;
    const running = await listRunning();
    const others = running.filter((g) => dirname(g.config) !== paths.dir);
    throw new NotRunningError(paths, others, running.find((g) => g.kind === "lb" && dirname(g.config) === paths.dir));
  } finally {
    watch.stop();
  }
  if (res.status >= 400 && res.headers.get("content-type")?.includes("json")) {
    const body = (await res.json()) as { error?: string; hint?: string };
    throw new CliError(body.error ?? `control request failed (${res.status})`, 1, body.hint);
  }
  return res;
}

/**
 * A gw from before heads went out at once answers an upgrade only once its successor serves,
 * which may take the successor's whole start: `gw upgrade` from such a gw must not give up first.
 */
const answerDeadline = (path: string) => (path.startsWith("/upgrade") ? DAEMON_START_TIMEOUT_MS : CONTROL_ANSWER_MS);

/**
 * gw talks only to a socket gw made in its own .gw/, which gw up never makes through a link: a
 * link there (a cloned folder's `.gw/gw.sock -> /tmp/x.sock`, or `.gw -> /tmp/x/`) would hand
 * `gw down`, `reload` and `logs` to whoever listens at its end, and print what that answers. A
 * missing or dead socket is left to the connect (not running).
 */
function refuseForeignSocket(paths: GwPaths): void {
  for (const p of [paths.stateDir, paths.socket]) refuseLink(p, "send its commands through it");
}

/**
 * The last line of a streamed answer (`{"error": …}` raised as the command's one-line error), or
 * the JSON of a gw from before that answer was streamed.
 */
export async function controlFinal<T>(paths: GwPaths, path: string, init?: RequestInit): Promise<T> {
  let last: (T & { error?: string }) | undefined;
  for await (const line of await controlLines<T & { error?: string }>(paths, path, init)) last = line;
  if (!last || typeof last.error === "string") throw new CliError(last?.error ?? "gw ended its answer without one", 1, `see ${typed("gw logs")}`);
  return last;
}

/** The lines of a streamed answer as they come, or the one JSON of a gw from before that answer was streamed. */
export async function controlLines<T>(paths: GwPaths, path: string, init?: RequestInit): Promise<AsyncIterable<T> | T[]> {
  const res = await controlRequest(paths, path, init);
  return res.headers.get("content-type")?.includes("ndjson") ? ndjsonLines<T>(res.body!) : [(await res.json()) as T];
}

export async function controlJson<T>(paths: GwPaths, path: string, init?: RequestInit): Promise<T> {
  return (await (await controlRequest(paths, path, init)).json()) as T;
}

/**
 * The JSON answer of a gw asked in passing (gw up -d polling the daemon it started, gw up naming
 * the URL of the gw in its way), or null: no gw, an error, or no answer by CONTROL_ANSWER_MS — busy or not.
 * A user's command waits for a busy gw and says so; a poll that did would stop showing the
 * daemon's progress for up to BUSY_ANSWER_MS, print its busy line between the progress lines,
 * and overrun its own deadline.
 */
export async function controlProbe<T>(paths: GwPaths, path: string, init: RequestInit = {}): Promise<T | null> {
  try {
    return (await (await controlRequest(paths, path, init, false)).json()) as T;
  } catch {
    return null;
  }
}
