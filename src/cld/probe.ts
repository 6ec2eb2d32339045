// Is the gateway up, and what does it serve? One request over a raw loopback socket: any HTTP
// answer counts as up (even 401/404), the question is only whether gw listens and speaks. Not
// fetch: Bun's fetch follows the user's HTTP_PROXY even for 127.0.0.1, and node:http costs tens
// of ms to load.

/**
 * Upper bound for the whole probe. A local LB answers in well under a millisecond, and a port
 * nothing listens on is refused at once; a team's gw on a server takes a few round trips (700 ms
 * across a VPN to another continent), which a tighter bound would call down.
 */
const PROBE_TIMEOUT_MS = 2_000;
/** A model list larger than this is not gw's: stop reading. */
const MAX_ANSWER_BYTES = 1 << 20;

interface GatewayAnswer {
  readonly up: boolean;
  /** Model id → context window, from gw's /v1/models (catalog/routes.ts on the gateway's side). */
  readonly windows?: ReadonlyMap<string, number>;
  /** Something answers, but not as gw does (another server on that port): what it said. */
  readonly notGw?: string;
}

export async function gatewayAnswers(baseUrl: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return (await ask(baseUrl, "HEAD / HTTP/1.1", [], timeoutMs, false)) !== null;
}

/**
 * `GET /v1/models` as Claude Code asks it: up or not, and the windows gw lists. The running gw
 * computes them from the catalogue, so cld need not load it (a few hundred ms) on every launch.
 */
export async function askGateway(baseUrl: string, key: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<GatewayAnswer> {
  const answer = await ask(baseUrl, "GET /v1/models HTTP/1.1", ["anthropic-version: 2023-06-01", `authorization: Bearer ${key}`], timeoutMs, true);
  if (answer === null) return { up: false };
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1]);
  const windows = windowsIn(answer);
  // gw lists its models, or refuses a key (401/403): anything else is another server.
  if (status === 200 && windows === undefined) return { up: true, notGw: "HTTP 200 to GET /v1/models, but no model list" };
  if (status !== 200 && status !== 401 && status !== 403) return { up: true, notGw: `HTTP ${status || "?"} to GET /v1/models` };
  return { up: true, windows };
}

// --- internal ---

/** The raw answer (the first bytes, or `whole`: all until the server closes), or null when nothing HTTP came back. */
function ask(baseUrl: string, requestLine: string, headers: readonly string[], timeoutMs: number, whole: boolean): Promise<string | null> {
  const url = new URL(baseUrl);
  const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
  return new Promise((resolve) => {
    let sock: { end(): void } | undefined;
    let settled = false;
    let got = "";
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock?.end();
      resolve(got.startsWith("HTTP/") ? got : null);
    };
    const timer = setTimeout(finish, timeoutMs);
    Bun.connect({
      hostname: url.hostname.replace(/^\[|\]$/g, ""),
      port,
      socket: {
        open(s) {
          sock = s;
          s.write(`${requestLine}\r\nHost: ${url.host}\r\n${headers.map((h) => `${h}\r\n`).join("")}Connection: close\r\n\r\n`);
        },
        data(_s, chunk) {
          got += chunk.toString("latin1");
          if (!whole || !got.startsWith("HTTP/".slice(0, got.length)) || got.length > MAX_ANSWER_BYTES) finish();
        },
        close: finish,
        error: finish,
        connectError: finish,
      },
    }).catch(finish);
  });
}

/** `data[].id` → `max_input_tokens` of a 200 answer from gw, else undefined. */
function windowsIn(answer: string): ReadonlyMap<string, number> | undefined {
  if (!/^HTTP\/1\.[01] 200 /.test(answer)) return undefined;
  const body = answer.slice(answer.indexOf("\r\n\r\n") + 4);
  try {
    const list = JSON.parse(Buffer.from(body, "latin1").toString("utf8")) as { data?: { id?: unknown; max_input_tokens?: unknown }[] };
    const out = new Map<string, number>();
    for (const m of list.data ?? []) if (typeof m.id === "string" && typeof m.max_input_tokens === "number") out.set(m.id, m.max_input_tokens);
    return out;
  } catch {
    return undefined;
  }
}
