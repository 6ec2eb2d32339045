// Whether gw can serve, from the instances' states alone (no probing: /healthz must stay cheap),
// and the start-up verdict of `gw up`: serve, serve degraded, keep waiting, or give up.
import type { Health } from "../lb/local.ts";

export interface InstanceView {
  readonly name: string;
  /** False for an instance given by url: gw cannot tell, so it counts as able to serve. */
  readonly managed: boolean;
  readonly state: string;
  readonly problem: string;
  /** The problem without when gw tries again, for a gw that gave up (instance.ts problemOnceStopped). */
  readonly problemOnceStopped?: string;
}

/** States from which an instance may still come up by itself (no user action needed). */
const UNDECIDED = new Set(["starting", "backoff"]);

export function healthOf(instances: readonly InstanceView[]): Health {
  const notReady = instances.filter((i) => i.managed && i.state !== "ready").map((i) => i.name);
  const ready = instances.length - notReady.length;
  const status = notReady.length === 0 ? "ok" : ready > 0 ? "degraded" : "failed";
  return { status, ready, total: instances.length, notReady };
}

type StartVerdict =
  /** Every instance ready, or some ready and the rest reported. */
  | { readonly kind: "serve" }
  /** Nothing ready yet, but something may still come up: look again shortly. */
  | { readonly kind: "wait" }
  /** Nothing can serve: every instance failed, crash-loops, or never came up in time. */
  | { readonly kind: "give-up" };

/**
 * Decided once the instances had their first start. An instance that is alive but slow
 * ("unready") keeps gw serving: it is still probed and joins when it answers.
 */
export function startVerdict(instances: readonly InstanceView[], timedOut: boolean): StartVerdict {
  if (instances.length === 0 || healthOf(instances).status !== "failed") return { kind: "serve" };
  if (instances.some((i) => i.state === "unready")) return { kind: "serve" };
  if (!timedOut && instances.some((i) => UNDECIDED.has(i.state))) return { kind: "wait" };
  return { kind: "give-up" };
}

/** One line per instance that is not ready, for the terminal and gw.log. */
export function notReadyLines(instances: readonly InstanceView[]): string[] {
  return notReady(instances).map((i) => `  ${problemOf(i)}`);
}

/**
 * Why the instances that are not ready are not, once each: instances held back by the same thing
 * (no CLIProxyAPI binary for any of them) share one line that names them all; each other reason
 * keeps its own line, with its instance.
 */
export function reasonsNotReady(instances: readonly InstanceView[]): string[] {
  const alike = new Map<string, string[]>(); // the reason with its instance's name taken out → the names
  for (const i of notReady(instances)) {
    // Said as gw stops: "next try in 300 s", "gw looks again every 2 s" would no longer be true.
    const reason = (i.problemOnceStopped || problemOf(i)).replaceAll(`instance '${i.name}'`, NAMED);
    alike.set(reason, [...(alike.get(reason) ?? []), i.name]);
  }
  return [...alike].map(([reason, names]) => {
    const who = names.length === 1 ? `instance '${names[0]}'` : `instances ${names.map((n) => `'${n}'`).join(", ")}`;
    return reason.includes(NAMED) ? reason.replaceAll(NAMED, who) : names.length === 1 ? reason : `${who}: ${reason}`;
  });
}

// --- internal ---

const NAMED = "\u0000";
const notReady = (instances: readonly InstanceView[]) => instances.filter((i) => i.managed && i.state !== "ready");
const problemOf = (i: InstanceView) => i.problem || `instance '${i.name}' is ${i.state}, no answer yet`;
