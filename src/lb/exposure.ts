// Who can reach the load balancer, and what a reload may change about it. The listener is bound
// once, at start (config/build.ts chose the address: a public `host` without api_keys binds
// 127.0.0.1); a reload swaps the config but keeps the socket. So a reload that drops the client
// keys of a gw listening on a public address would open it to the network: that reload is
// refused, whichever way it comes (file watch, SIGHUP, `gw reload`, `gw lb`), and the running
// config stays. Pure; Gateway.reload is the one caller.

import { isLoopback, onThisMachine } from "../config/loopback.ts";
import type { Config, Problem } from "../config/types.ts";

/** Where the LB really listens: the bound address and port. */
export interface Listening {
  readonly host: string;
  readonly port: number;
  /** The port was given on the command line (`--port`): main_port changes do not concern it. */
  readonly portFixed?: boolean;
}

export class ReloadRefused extends Error {
  constructor(
    message: string,
    readonly hint: string,
    /** The setting at fault, as problems name it. */
    readonly path: string,
  ) {
    super(message);
  }
}

/** Why `next` may not be applied to a gw listening at `at`, or undefined when it may. */
export function reloadRefusal(at: Listening, next: Config): ReloadRefused | undefined {
  // The config's own check (build.ts) compares with the new main_port, which waits for a restart:
  // an instance moved onto the port the LB still holds would be gw itself, and every request sent
  // to it would come back as a new one, without end.
  const onLbPort = next.instances.find((i) => i.port === at.port && onThisMachine(i));
  if (onLbPort) {
    return new ReloadRefused(
      `reload refused: instance "${onLbPort.name}" would take port ${at.port}, where the load balancer listens until gw restarts; the running config stays`,
      `give [instances.${onLbPort.name}] another port (a main_port change takes effect when gw restarts)`,
      `instances.${onLbPort.name}.port`,
    );
  }
  if (isLoopback(at.host) || next.global.apiKeys.length > 0) return undefined;
  return new ReloadRefused(
    `reload refused: the load balancer listens on ${describe(at)} and the new config has no api_keys, so anyone who can reach it would use your accounts; the running config stays`,
    'keep api_keys = ["${GW_CLIENT_KEY}"] under [global], or set host = "127.0.0.1" and restart gw',
    "global.api_keys",
  );
}

/**
 * What a valid reload does not change until gw restarts, said on every reload whose file still
 * differs from the listener (gw.log, and `gw reload`'s output as warnings): `started` is the
 * config the listener was opened with, `at` the address really bound.
 */
export function restartNotes(at: Listening, started: Config, next: Config): Problem[] {
  const notes: Problem[] = [];
  const note = (path: string, message: string) => notes.push({ severity: "warning", file: next.file, line: 0, col: 0, path, message });
  if (next.global.bindHost !== started.global.bindHost) {
    note("global.host", `host changed to ${next.global.bindHost}; the load balancer stays on ${describe(at)} until gw restarts`);
  }
  if (!at.portFixed && next.global.mainPort !== at.port) {
    note("global.main_port", `main_port changed to ${next.global.mainPort}; the load balancer stays on ${describe(at)} until gw restarts`);
  }
  return notes;
}

/** `http://0.0.0.0:8145 (every interface)`, `http://127.0.0.1:8145`: the address really bound. */
export function describe(at: Listening): string {
  const host = at.host.includes(":") && !at.host.startsWith("[") ? `[${at.host}]` : at.host || "0.0.0.0";
  const every = WILDCARD.has(host) ? " (every interface)" : "";
  return `http://${host}:${at.port}${every}`;
}

const WILDCARD = new Set(["0.0.0.0", "[::]", "[::0]"]);
