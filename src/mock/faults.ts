/**
 * Fault and knob specs for `gw mock` (pure).
 *
 * A spec is a list of `~`-separated tokens. It can ride on the model name, so that the LB's
 * per-target model rewrite aims a fault at exactly one target:
 *
 *     gemini-3-flash~429              every request to this upstream model gets a 429
 *     claude-x~slow-first=800~cut=3   first byte after 800 ms, socket destroyed after 3 events
 *
 * or sit in the request header `x-mock-fault: 429~gzip` (no leading `~` needed), or be the
 * instance-wide default from `gw mock --fault SPEC`. Precedence: model suffix > header > default,
 * token by token. Everything from the first `~` is stripped from the model before the lookup (a
 * YAML that registers the whole name, as gw writes a route's upstream model, matches it too).
 *
 * Tokens
 *   429[=S]        model_cooldown with reset_seconds S (default 60) in the body
 *   passthrough    as CLIProxyAPI's `passthrough-headers: true` (also read from the YAML): only
 *                  then does a cooldown 429 carry `Retry-After: S` — by default it does not
 *   503            auth_unavailable (no usable credential)
 *   401            upstream authentication failure      403  insufficient_quota
 *   sig            400 invalid thinking signature        400  plain invalid_request_error
 *   sig=foreign    the same 400, only for a request carrying a thinking signature another instance
 *                  made (a strict verifier: Anthropic, CLIProxyAPI's signature cache)
 *   529            overloaded                            other 4xx/5xx: a generic error of that status
 *   after=N        turn the status above into an error event inside a 200 stream, sent after the
 *                  stream's opening (the handshake events before any content) and N content
 *                  events. CLIProxyAPI commits its 200 with the first upstream chunk, so an error
 *                  before content follows the handshake: after=0 is exactly that case
 *   gzip           gzip the error body (Content-Encoding: gzip)
 *   slow-first=MS  hold the status line and first event back MS ms
 *   interval=MS    MS ms between stream events (token interval)
 *   gap=MS         a pause of MS ms after the first content event; silent unless keepalive is set
 *   keepalive=MS   send `: keep-alive` comment lines every MS ms from the first event on (a ticker)
 *   ns-keepalive=MS  non-streamed: while slow-first holds the answer back, send 200 and a "\n"
 *                  every MS ms (CLIProxyAPI's nonstream-keepalive-interval); the body, error or
 *                  not, follows the newlines under that 200
 *   cut=N          reset the connection ~250 ms after N stream events (no terminating chunk)
 *   empty          streams only: the upstream's stream ends before any data. CLIProxyAPI then
 *                  answers 200 with no events (Anthropic, Gemini), 200 with only `data: [DONE]`
 *                  (chat), or 502 "upstream stream closed before first payload" (Responses)
 *   hang           never answer (until the client goes away)
 *   window=N       the upstream model's context window in tokens: a request whose prompt (its
 *                  body's bytes ÷ 4, as the answers count input tokens) is over N gets the
 *                  upstream's own 400 for a prompt too long, in its words (Anthropic's, Google's,
 *                  OpenAI's, Codex's), passed through as CLIProxyAPI passes upstream errors; with
 *                  after=N it comes as an error event inside a 200 stream instead (as Codex's
 *                  backend sends it), with ns-keepalive after the newlines
 *   events=N       number of content deltas (output length)
 *   think          a signed thinking block (reasoning item, thought part) before the answer, in
 *                  every dialect; Anthropic requests that enable thinking get one without it
 *   tool[=NAME]    answer with a call to the request's first declared tool, or to the one named
 *                  NAME (arguments from its schema's required properties) instead of text — text
 *                  again once the last message is a tool's result, so a client's tool loop ends.
 *                  NAME picks the tool a test can see run where the first is not it (Gemini
 *                  CLI 0.61 declares update_topic first; read_file's result shows the file);
 *                  a NAME the request does not declare gets text
 */

export interface Fault {
  /** Error status to answer with; 0 = none. */
  status: number;
  /** Which CLIProxyAPI body goes with the status (see errors.ts). */
  kind: "cooldown" | "auth_unavailable" | "auth" | "quota" | "signature" | "overloaded" | "generic" | "";
  retryAfterS: number;
  /** CLIProxyAPI's passthrough-headers: error headers (Retry-After) reach the client. */
  passthrough: boolean;
  /** With a status: emit it as an in-stream error event after the opening and this many content events; -1 = as the status. */
  after: number;
  gzip: boolean;
  slowFirstMs: number;
  intervalMs: number;
  gapMs: number;
  keepaliveMs: number;
  nonstreamKeepaliveMs: number;
  /** Destroy the connection after this many events; -1 = never. */
  cut: number;
  /** A streamed answer's upstream ends before any data. */
  empty: boolean;
  hang: boolean;
  events: number;
  think: boolean;
  tool: boolean;
  /** The tool `tool` calls; "" = the first one the request declares. */
  toolName: string;
  /** `sig=foreign`: answer 400 "signature" to a request carrying a signature another instance made. */
  foreignSig: boolean;
  /** The upstream model's context window in tokens; 0 = none (every prompt fits). */
  windowTokens: number;
}

export const NO_FAULT: Readonly<Fault> = Object.freeze({
  status: 0,
  kind: "",
  retryAfterS: 60,
  passthrough: false,
  after: -1,
  gzip: false,
  slowFirstMs: 0,
  intervalMs: 0,
  gapMs: 0,
  keepaliveMs: 0,
  nonstreamKeepaliveMs: 0,
  cut: -1,
  empty: false,
  hang: false,
  events: 12,
  think: false,
  tool: false,
  toolName: "",
  foreignSig: false,
  windowTokens: 0,
});

const KIND_BY_STATUS: Record<number, Fault["kind"]> = {
  429: "cooldown",
  503: "auth_unavailable",
  401: "auth",
  403: "quota",
  529: "overloaded",
};

const NUMERIC: Record<string, keyof Fault> = {
  after: "after",
  "slow-first": "slowFirstMs",
  interval: "intervalMs",
  gap: "gapMs",
  keepalive: "keepaliveMs",
  "ns-keepalive": "nonstreamKeepaliveMs",
  cut: "cut",
  events: "events",
  window: "windowTokens",
};

type Flag = "gzip" | "hang" | "passthrough" | "empty" | "think";
const FLAGS: ReadonlySet<string> = new Set<Flag>(["gzip", "hang", "passthrough", "empty", "think"]);

export class FaultSpecError extends Error {}

/** Parse `429=30~gzip` into the fields it sets (only those). Throws FaultSpecError on a bad token. */
export function parseFault(spec: string): Partial<Fault> {
  const out: Partial<Fault> = {};
  for (const raw of spec.split("~")) {
    const token = raw.trim();
    if (!token) continue;
    const eq = token.indexOf("=");
    const key = eq < 0 ? token : token.slice(0, eq);
    const value = eq < 0 ? "" : token.slice(eq + 1);
    if (/^[45]\d\d$/.test(key)) {
      out.status = Number(key);
      out.kind = KIND_BY_STATUS[out.status] ?? "generic";
      if (value) out.retryAfterS = count(token, value);
    } else if (key === "sig" && !value) {
      out.status = 400;
      out.kind = "signature";
    } else if (key === "sig" && value === "foreign") {
      out.foreignSig = true;
    } else if (key === "tool") {
      out.tool = true;
      out.toolName = value; // a bare `tool` on the model overrides a header's tool=NAME too
    } else if (FLAGS.has(key) && !value) {
      out[key as Flag] = true;
    } else if (key in NUMERIC && value) {
      (out as Record<string, number>)[NUMERIC[key]!] = count(token, value);
    } else {
      throw new FaultSpecError(
        `unknown fault token "${token}" (tokens: 429[=S], 503, 401, 403, sig[=foreign], 529, NNN, after=N, gzip, passthrough, ` +
          "slow-first=MS, interval=MS, gap=MS, keepalive=MS, ns-keepalive=MS, cut=N, empty, hang, events=N, think, tool[=NAME], window=N)",
      );
    }
  }
  return out;
}

function count(token: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new FaultSpecError(`fault token "${token}" needs a whole number`);
  return Number(value);
}

/** Split `name(8192)~429~cut=3` into the bare model (thinking suffix kept) and the fault spec. */
export function splitModel(model: string): { model: string; spec: string } {
  const i = model.indexOf("~");
  return i < 0 ? { model, spec: "" } : { model: model.slice(0, i), spec: model.slice(i + 1) };
}

/** The effective fault: defaults, then the header's tokens, then the model suffix's. */
export function resolveFault(base: Readonly<Fault>, header: string | null, suffix: string): Readonly<Fault> {
  if (!header && !suffix) return base;
  return { ...base, ...(header ? parseFault(header) : {}), ...(suffix ? parseFault(suffix) : {}) };
}
