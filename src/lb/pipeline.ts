// The request path, top to bottom:
//   local answers → auth → intake → route → (rewrite → forward, failover ↺) → stream
// Each step lives in its own module; this file only orders them and turns outcomes into responses.

import type { Server } from "bun";
import type { Route, Target } from "../config/types.ts";
import { checkClientKey } from "./auth.ts";
import { type Dialect, dialectOf, errorResponse } from "./dialect.ts";
import { type AttemptLoop, runAttempts } from "./failover.ts";
import { type AttemptInfo, forward, type Outcome } from "./forward.ts";
import { downstreamHeaders } from "./headers.ts";
import { foldPath, type Intake, isForbiddenPath, readIntake } from "./intake.ts";
import { probeAnswer } from "./local.ts";
import { modelsResponse } from "./models.ts";
import { upstreamModel, rewriteFor } from "./rewrite.ts";
import { pickTarget } from "./route.ts";
import type { Runtime } from "./runtime.ts";
import type { StatsCounter } from "./stats.ts";
import { guardEventStream, isEventStream } from "./stream.ts";

export async function handle(req: Request, server: Server<unknown>, rt: Runtime, stats: StatsCounter): Promise<Response> {
  const url = new URL(req.url);
  const probe = probeAnswer(req.method, url.pathname);
  if (probe) return probe;
  const path = foldPath(url.pathname);
  const dialect = dialectOf(path, req.headers);
  if (isForbiddenPath(url.pathname)) {
    return errorResponse(dialect, 403, `gw does not proxy ${url.pathname}`, "forbidden_path");
  }
  const auth = checkClientKey(rt.clientKeys, req.headers, url);
  if (auth !== "ok") {
    const msg = auth === "missing" ? "missing API key for gw" : "invalid API key for gw";
    return errorResponse(dialect, 401, msg, auth === "missing" ? "missing_api_key" : "invalid_api_key");
  }
  if (req.method === "GET" && path === "/v1/models") return modelsResponse(rt.models, req.headers);

  const intake = await readIntake(req, url, rt.config.global.lb.maxBodyBytes);
  if (intake instanceof Response) return intake;
  // Quiet streams and slow first tokens are normal for LLMs: gw's own timeouts govern, not Bun's.
  server.timeout(req, 0);
  stats.begin();
  let streaming = false;
  let failed = true;
  try {
    const route = intake.model === undefined ? undefined : rt.config.routes.get(intake.model);
    const { final, trace } = await runAttempts(attemptLoop(req, intake, rt, route, stats));
    const explain = explainHeaders(route, final, trace.length, intake);
    if (!final) {
      return errorResponse(dialect, 503, `no instance can serve model ${intake.model ?? "(none)"}`, "no_instance", explain);
    }
    if (final.kind === "failed") {
      failed = final.reason !== "aborted"; // a client that left is not gw's failure
      return failureResponse(final, dialect, explain);
    }
    failed = final.status >= 500;
    const headers = downstreamHeaders(final.headers, explain);
    if (final.body && isEventStream(final.headers)) {
      streaming = true;
      stats.streamOpened();
      const onEnd = (broken: boolean) => {
        stats.streamClosed();
        stats.end(failed || broken);
      };
      const body = guardEventStream(final.body, intake.dialect, onEnd, rt.config.global.lb.idleTimeoutMs);
      return new Response(body, { status: final.status, headers });
    }
    return new Response(final.body, { status: final.status, headers });
  } finally {
    if (!streaming) stats.end(failed);
  }
}

function attemptLoop(req: Request, intake: Intake, rt: Runtime, route: Route | undefined, stats: StatsCounter): AttemptLoop {
  const lb = rt.config.global.lb;
  const attempt = async (info: AttemptInfo): Promise<Outcome> => {
    const up = rewriteFor(intake, req.headers, info.instance, info.target);
    const timeout = info.target?.firstByteTimeoutMs ?? lb.firstByteTimeoutMs;
    const outcome = await forward(info, req.method, up, req.signal, timeout);
    stats.attempt(info.instance.name, outcome.kind === "failed" ? outcome.reason !== "aborted" : outcome.status >= 500);
    return outcome;
  };
  if (!route) {
    // Unknown or absent model: the default instance gets the request as sent, once.
    const instance = rt.defaultInstance;
    return { maxRetries: 0, attempt, choose: (tried) => (tried.size === 0 && instance ? { instance, target: undefined } : undefined) };
  }
  return {
    maxRetries: lb.maxTargetRetries,
    attempt,
    choose(tried) {
      const target = pickTarget(route, { tried, now: Date.now() });
      const instance = target && rt.instances.get(target.instance);
      return instance ? { instance, target } : undefined;
    },
  };
}

function explainHeaders(route: Route | undefined, final: Outcome | undefined, attempts: number, intake: Intake) {
  const t: Target | undefined = final?.attempt.target;
  const instance = final?.attempt.instance.name ?? "-";
  return {
    "x-gw-route": route?.name ?? "-",
    "x-gw-target": headerSafe(`${instance}/${t ? upstreamModel(t) : (intake.model ?? "-")}`),
    "x-gw-attempts": String(attempts),
  };
}

function failureResponse(final: Outcome & { kind: "failed" }, dialect: Dialect, explain: Record<string, string>): Response {
  if (final.reason === "timeout") return errorResponse(dialect, 504, `upstream timeout: ${final.message}`, "upstream_timeout", explain);
  if (final.reason === "aborted") return new Response(null, { status: 499, headers: explain });
  return errorResponse(dialect, 502, `upstream unreachable: ${final.message}`, "upstream_unreachable", explain);
}

/** Client-chosen names may hold bytes a header cannot carry; percent-encode those. */
function headerSafe(s: string): string {
  const v = /^[\x20-\x7e]*$/.test(s) ? s : encodeURIComponent(s);
  return v.length > 512 ? v.slice(0, 512) : v;
}
