// The request path, top to bottom (browsers were judged before: browser.ts, in server.ts):
//   local answers → auth → intake → auto router → upgrade → route → (rewrite → forward, failover ↺) → own words → stream → observe
// Each step lives in its own module; this file only orders them.

import type { Server } from "bun";
import { checkClientKey, presentedKey } from "./auth.ts";
import { attemptLoop } from "./attempt.ts";
import { clientAddress } from "./client-address.ts";
import { DeadEnds } from "./dead-ends.ts";
import { deliver, type GatewayContext } from "./deliver.ts";
import { dialectOf, errorResponse } from "./dialect.ts";
import { ClientLink, schedule, unschedule } from "./due.ts";
import { runAttempts, type Tried } from "./failover.ts";
import { foldPath, readIntake, type RoutedIntake, routed } from "./intake.ts";
import { probeAnswer } from "./local.ts";
import { isModelList, modelEntryLabel, modelEntryResponse, modelsResponse } from "./models.ts";
import { type OwnError, ownError, wrongMethod } from "./own-error.ts";
import { isForbiddenPath } from "./paths.ts";
import { RecordBuilder } from "./record-builder.ts";
import { type FallbackFacts, type RequestFacts, requestFacts, routeHeader } from "./request-state.ts";
import { upstreamModel } from "./rewrite.ts";
import type { Runtime } from "./runtime.ts";
import { fallBack, fallbackAnswers, signatureFallback } from "./signature-fallback.ts";

export type { GatewayContext } from "./deliver.ts";

/** A local answer or refusal at once; a proxied request's answer once it is known. */
export function handle(req: Request, server: Server<unknown>, rt: Runtime, gw: GatewayContext): Response | Promise<Response> {
  // Local answers and refusals: no upstream, no record.
  const url = new URL(req.url);
  const probe = probeAnswer(req.method, url.pathname, gw.health);
  if (probe) return answeredLocally(gw, url.pathname, probe);
  const path = foldPath(url.pathname);
  const dialect = dialectOf(path, req.headers);
  if (isForbiddenPath(url.pathname)) {
    return refused(gw, errorResponse(dialect, 403, `gw forwards only the model APIs (/v1/…, /v1beta/…), not ${url.pathname.slice(0, 200)}`, "forbidden_path"));
  }
  const auth = checkClientKey(rt.clientKeys, req.headers, url);
  if (auth !== "ok") {
    const msg = auth === "missing" ? "missing API key for gw" : "invalid API key for gw";
    gw.refusals?.keyRefused(clientAddress(server.requestIP(req)?.address, req.headers), presentedKey(req.headers, url));
    return refused(gw, errorResponse(dialect, 401, msg, auth === "missing" ? "missing_api_key" : "invalid_api_key"));
  }
  if (req.method === "GET") {
    if (isModelList(path, dialect)) return answeredLocally(gw, path, modelsResponse(rt.models, req.headers, dialect));
    const entry = modelEntryResponse(rt.models, path, req.headers);
    if (entry) return answeredLocally(gw, modelEntryLabel(path), entry);
  }
  const wrong = wrongMethod(req.method, path);
  if (wrong) return refused(gw, errorResponse(dialect, wrong.status, wrong.message, wrong.code, wrong.headers));

  return proxy(req, server, url, rt, gw);
}

/**
 * A proxied request, in one async frame: a frame lives as long as its request, and the collector
 * marks every one (bench/README.md).
 */
async function proxy(req: Request, server: Server<unknown>, url: URL, rt: Runtime, gw: GatewayContext): Promise<Response> {
  // The body's memory is held from its first byte until the answer is handed back (body-budget.ts).
  const hold = gw.bodies.hold(rt.config.global.lb.maxBodyMemoryBytes);
  try {
    // Intake: the body, read, measured and parsed once.
    const received = await readIntake(req, url, rt.config.global.lb, hold);
    if (received instanceof Response) return refused(gw, received);
    // Read out now: a catch below naming `received` would keep it — the parsed body with it — in
    // this frame for as long as the request lasts (test/lb/in-flight-memory.test.ts).
    const { dialect, path } = received;
    const startedAt = Date.now();
    gw.stats.begin();
    // A request still waiting after a moment is slow: quiet streams and slow first tokens are
    // normal for LLMs, so gw's own timeouts govern, not Bun's, and the client's leaving is listened
    // for. Fast requests never pay for either (due.ts).
    const client = new ClientLink(req, server);
    schedule(client);

    // Made as the request goes on: a throw (gw's own bug) ends the request with what there is.
    let facts: RequestFacts | undefined;
    let record: RecordBuilder | undefined;
    try {
      // Router and upgrade: session, signature and size facts decide the route that serves the
      // request (an `auto` request gets its route from the router first).
      const deadEnds = new DeadEnds(gw.deadEnds);
      facts = requestFacts(req.headers, received, rt.config, gw.state, startedAt, { draining: gw.load?.resting, deadEnds });
      // Routed: from here on the request keeps what its attempts and its record need of the body,
      // not the parsed body (intake.ts routed).
      const intake = routed(received);
      record = new RecordBuilder(startedAt, intake, received.json, facts, rt.masker, presentedKey(req.headers, url), req.headers, server.requestIP(req)?.address);

      // Route → rewrite → forward, failing over until an outcome is delivered.
      const deps = { req, intake, rt, state: gw.state, stats: gw.stats, load: gw.load, probes: gw.probes, client, facts, record, memory: hold, deadEnds };
      let run = await runAttempts(attemptLoop(deps, facts.route));
      let final = run.final;
      let attempts = run.trace.length;
      // A rejected thinking signature gets one more go where its provider family lives.
      const fallback = signatureFallback(final, deps);
      if (fallback) {
        const second = await fallBack(deps, fallback, attempts, false);
        if (fallbackAnswers(second, record)) {
          final = second.final;
          run = second;
        }
        attempts += second.trace.length;
      }

      // Own words: where the upstream's answer says less than gw knows (every target of the route
      // out, a model no route names, a path nobody serves), gw's error replaces it.
      const route = record.served;
      const own = ownError(final, { method: req.method, path: intake.path, model: intake.model, route, config: rt.config, state: gw.state, resting: gw.load?.resting, deadEnds: deps.deadEnds, now: Date.now(), mask: rt.masker.text });

      // Stream → observe: bytes go to the client; the record completes when they have.
      const explain = explainHeaders(record.id, facts, record.fallbackFacts, final, attempts, intake);
      return deliver(final, { gw, dialect: intake.dialect, facts, record, route, explain, idleMs: rt.config.global.lb.idleTimeoutMs, mask: rt.masker.text, maskPieces: rt.masker.pieces, client, own, cooldowns: rt.config.global.lb.cooldownsMs, path: intake.path, run, deps });
    } catch (err) {
      // Left to Bun, it was a 500 in OpenAI's shape whatever the client spoke, no record, and a
      // request in flight for ever on the status page: it is answered and ended as any answer is.
      const own: OwnError = { status: 500, message: rt.masker.text(`gw internal error: ${err instanceof Error ? err.message : String(err)}`), code: "internal_error" };
      if (!facts || !record) {
        unschedule(client);
        gw.stats.end(true);
        return errorResponse(dialect, own.status, own.message, own.code);
      }
      const d = { gw, dialect, facts, record, route: record.served, explain: { "x-gw-request-id": record.id }, idleMs: 0, mask: rt.masker.text, maskPieces: rt.masker.pieces, client, own, cooldowns: rt.config.global.lb.cooldownsMs, path };
      return deliver(undefined, d);
    }
  } finally {
    hold.release();
  }
}

/** Local answers are not proxied requests (no record, no stats), but they are counted. */
function answeredLocally(gw: GatewayContext, path: string, res: Response): Response {
  gw.observe.metrics.local.add(1, path);
  return res;
}

/** Refusals have no record either; counted, so a client sending a wrong key shows somewhere. */
export function refused(gw: Pick<GatewayContext, "observe">, res: Response): Response {
  gw.observe.metrics.refused(res.status);
  return res;
}

function explainHeaders(id: string, facts: RequestFacts, fallback: FallbackFacts | undefined, final: Tried | undefined, attempts: number, intake: RoutedIntake) {
  const a = final?.outcome.attempt;
  const model = a?.target ? upstreamModel(a.target) : (intake.model ?? "-");
  return {
    "x-gw-route": headerSafe(routeHeader(facts, fallback)),
    "x-gw-target": headerSafe(`${a?.instance.name ?? "-"}/${model}`),
    "x-gw-attempts": String(attempts),
    "x-gw-request-id": id,
  };
}

/** Client-chosen names may hold bytes a header cannot carry; percent-encode those. */
function headerSafe(s: string): string {
  const v = /^[\x20-\x7e]*$/.test(s) ? s : encodeURIComponent(s);
  return v.length > 512 ? v.slice(0, 512) : v;
}
