// One model request, start to finish: model lookup, the request's fault, then the dialect's
// answer (JSON or stream) or CLIProxyAPI's error in that dialect's shape.

import { makeAnswer, promptTokens } from "./answer.ts";
import type { Catalog } from "./catalog.ts";
import type { Dialect } from "./dialects/types.ts";
import { type ErrorText, errorResponse, faultErrorText, promptTooLongText, unknownModelText } from "./errors.ts";
import { type Fault, FaultSpecError, resolveFault, splitModel } from "./faults.ts";
import type { RecordedRequest, StatsRecorder } from "./stats.ts";
import { newlinesThenBody, playStream, SSE_HEADERS } from "./stream.ts";
import { carriesForeignSignature } from "./signatures.ts";
import { type ToolFamily, toolCallFor } from "./tool-call.ts";
import { type Upstream, upstreamFor } from "./upstream.ts";

export interface Instance {
  name: string;
  catalog: Catalog;
  defaults: Readonly<Fault>;
  stats: StatsRecorder;
}

export interface ModelRequest {
  dialect: Dialect;
  /** Model as sent (body or Gemini path), fault suffix included. */
  model: string;
  stream: boolean;
  bodyBytes: number;
  /** The request enabled extended thinking (Anthropic `thinking.type` enabled or adaptive). */
  thinking?: boolean;
  /** How this family declares tools, for the `tool` knob (none: the endpoint answers no tool calls). */
  tools?: ToolFamily;
  /** The parsed body, when it is a JSON object: what a Responses answer echoes. */
  body?: Readonly<Record<string, unknown>>;
  /** Overrides the dialect's JSON answer (count_tokens). */
  json?: (a: ReturnType<typeof makeAnswer>) => string;
  /** The error an executor family answers instead of serving this endpoint (compact). */
  refuse?: (upstream: Upstream) => ErrorText | undefined;
}

const JSON_HEADERS = { "content-type": "application/json" };

/** Resolves after ms, or early when the client goes away. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

/** Answers a model request; counts it in flight until its body has been played out. */
export async function respond(inst: Instance, req: Request, mr: ModelRequest, rec: RecordedRequest): Promise<Response> {
  const stats = inst.stats;
  stats.inFlight++;
  let streaming = false;
  try {
    const res = await answerOrFail(inst, req, mr, () => {
      streaming = true;
      return () => stats.inFlight--;
    });
    rec.status = res.status;
    return res;
  } finally {
    if (!streaming) stats.inFlight--;
  }
}

async function answerOrFail(inst: Instance, req: Request, mr: ModelRequest, handOff: () => () => void): Promise<Response> {
  const { dialect } = mr;
  const { model, spec } = splitModel(mr.model);
  let fault: Readonly<Fault>;
  try {
    fault = resolveFault(inst.defaults, req.headers.get("x-mock-fault"), spec);
  } catch (err) {
    if (!(err instanceof FaultSpecError)) throw err;
    return errorResponse(400, dialect.errorBody({ status: 400, text: `gw mock: ${err.message}` }, mr.stream));
  }
  if (fault.foreignSig && fault.status === 0 && carriesForeignSignature(mr.body, inst.name)) fault = { ...fault, status: 400, kind: "signature" };
  // gw writes a route's upstream model into the YAML as it is, fault included (`claude-x~429`):
  // the instance registered that name.
  const provider = inst.catalog.provider(model) ?? inst.catalog.provider(mr.model);
  if (provider === null) return errorResponse(400, dialect.errorBody(unknownModelText(model), mr.stream));
  const upstream = upstreamFor(provider, model);
  const refused = mr.refuse?.(upstream);
  if (refused) return errorResponse(refused.status, dialect.errorBody(refused, mr.stream));

  if (fault.hang) {
    // Never answer: the request stays open until the client (or stop()) closes it.
    await new Promise<void>((resolve) => req.signal.addEventListener("abort", () => resolve()));
    return new Response(null, { status: 499 });
  }
  const inStreamError = mr.stream && fault.after >= 0;
  // A prompt over the model's window (window=N) is refused as a status fault is: as the status, or
  // with after=N inside a 200 stream (Codex's backend refuses there), or after ns-keepalive's newlines.
  const tooLong = overWindow(fault, mr.bodyBytes, upstream);
  const error = tooLong ?? (fault.status > 0 ? faultErrorText(fault, model, provider) : undefined);
  const ka = fault.nonstreamKeepaliveMs;
  if (!mr.stream && ka > 0 && fault.slowFirstMs >= ka) {
    // Go sends the status line with the first keep-alive newline, one interval in.
    await sleep(ka, req.signal);
    const body = error ? dialect.errorBody(error, false) : (mr.json ?? dialect.json)(answerFor(inst, mr, model, fault, upstream));
    return new Response(newlinesThenBody(fault.slowFirstMs - ka, ka, body, handOff()), { headers: JSON_HEADERS });
  }
  if (fault.slowFirstMs > 0) await sleep(fault.slowFirstMs, req.signal);
  if (error && !inStreamError) {
    // CLIProxyAPI's cooldown error has a Retry-After header, but only passthrough-headers lets it out.
    const retryAfterS = fault.passthrough ? error.retryAfterS : undefined;
    return errorResponse(error.status, dialect.errorBody(error, mr.stream), { gzip: fault.gzip, retryAfterS });
  }
  if (mr.stream && fault.empty) {
    const empty = dialect.emptyStream;
    if (typeof empty !== "string") return errorResponse(empty.status, dialect.errorBody(empty, true));
    return new Response(empty, { headers: SSE_HEADERS });
  }
  const answer = answerFor(inst, mr, model, fault, upstream);
  if (!mr.stream) return new Response((mr.json ?? dialect.json)(answer), { headers: JSON_HEADERS });

  // playStream sends the error event of a fault with a status: the refusal's is 400.
  const played = tooLong ? { ...fault, status: tooLong.status } : fault;
  return new Response(playStream(dialect.stream(answer, error), played, handOff()), { headers: SSE_HEADERS });
}

/** The upstream's refusal of a prompt longer than the model's window (`window=N`), if it is. */
function overWindow(fault: Readonly<Fault>, bodyBytes: number, upstream: Upstream): ErrorText | undefined {
  const tokens = promptTokens(bodyBytes);
  return fault.windowTokens > 0 && tokens > fault.windowTokens ? promptTooLongText(upstream, tokens, fault.windowTokens) : undefined;
}

/** The answer the request and its knobs ask for: thinking first when either asks, a tool call for `tool`. */
function answerFor(inst: Instance, mr: ModelRequest, model: string, fault: Readonly<Fault>, upstream: Upstream) {
  const tool = fault.tool && mr.tools ? toolCallFor(mr.tools, mr.body ?? {}, fault.toolName) : undefined;
  return makeAnswer(inst.name, model, fault.events, mr.bodyBytes, mr.thinking || fault.think, mr.body, upstream, tool);
}
