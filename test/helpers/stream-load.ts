// A load of concurrent Anthropic requests against a gw, tallied the way an upgrade is judged:
// failed requests, cut streams, refused (or reset) connections. Streamed requests reuse
// keep-alive connections; plain ones open a fresh connection each time (those would see a
// refused or reset connect). Bounded: it runs until stop().

interface Figures {
  /** Plain answers that came back whole. */
  ok: number;
  streamsOk: number;
  failed: string[];
  cut: string[];
  refused: string[];
  /** Streams open right now. */
  open: number;
}

function connectionError(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? "";
  return /ECONNREFUSED|ECONNRESET|ConnectionRefused|ConnectionClosed|EPIPE|socket/i.test(`${code} ${(e as Error).message}`);
}

export function streamLoad(url: string, streamWorkers: number, connectWorkers: number, headers: Record<string, string> = {}) {
  const f: Figures = { ok: 0, streamsOk: 0, failed: [], cut: [], refused: [], open: 0 };
  let running = true;
  const body = (stream: boolean) => JSON.stringify({ model: "m", max_tokens: 64, stream, messages: [{ role: "user", content: "hi" }] });
  const h = { "content-type": "application/json", ...headers };
  const record = (e: unknown, what: string) => (connectionError(e) ? f.refused : f.failed).push(`${what}: ${(e as Error).message}`);
  const streamer = async () => {
    while (running) {
      let started = false;
      try {
        const res = await fetch(`${url}/v1/messages`, { method: "POST", headers: h, body: body(true) });
        if (res.status !== 200) {
          f.failed.push(`stream: HTTP ${res.status} ${await res.text()}`);
          continue;
        }
        started = true;
        f.open++;
        const text = await res.text().finally(() => f.open--);
        if (text.includes("event: message_stop") && !text.includes("event: error")) f.streamsOk++;
        else f.cut.push(`stream ended without message_stop: …${text.slice(-120)}`);
      } catch (e) {
        if (started) f.cut.push(`stream broke: ${(e as Error).message}`);
        else record(e, "stream");
      }
    }
  };
  const connector = async () => {
    while (running) {
      try {
        const res = await fetch(`${url}/v1/messages`, { method: "POST", headers: h, body: body(false), keepalive: false });
        const text = await res.text();
        if (res.status === 200 && text.includes("Mock answer")) f.ok++;
        else f.failed.push(`plain: HTTP ${res.status} ${text.slice(0, 120)}`);
      } catch (e) {
        record(e, "plain");
      }
    }
  };
  const workers = [...Array.from({ length: streamWorkers }, streamer), ...Array.from({ length: connectWorkers }, connector)];
  return {
    figures: f,
    /** More connect workers from now on: a test that knows when the handover can begin starts
     * them there, rather than letting their busy loop slow every step before it. */
    connect(n: number) {
      if (running) workers.push(...Array.from({ length: n }, connector));
    },
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}
