// Is the gateway up? One HEAD over a raw loopback socket: any HTTP answer counts (even 401/404),
// the question is only whether gw listens and speaks. Not fetch: Bun's fetch follows the user's
// HTTP_PROXY even for 127.0.0.1, and node:http costs tens of ms to load.

/** Upper bound for the whole probe; a local LB answers in well under a millisecond. */
export const PROBE_TIMEOUT_MS = 300;

export function gatewayAnswers(baseUrl: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  const url = new URL(baseUrl);
  const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
  return new Promise((resolve) => {
    let sock: { end(): void } | undefined;
    let settled = false;
    const finish = (up: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock?.end();
      resolve(up);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    Bun.connect({
      hostname: url.hostname.replace(/^\[|\]$/g, ""),
      port,
      socket: {
        open(s) {
          sock = s;
          s.write(`HEAD / HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`);
        },
        data: (_s, chunk) => finish(chunk.toString("latin1", 0, 5) === "HTTP/"),
        close: () => finish(false),
        error: () => finish(false),
        connectError: () => finish(false),
      },
    }).catch(() => finish(false));
  });
}
