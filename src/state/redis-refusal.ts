// Why a Redis closed gw's connection as it opened. Bun's client says only "Connection closed" when
// Redis refuses its handshake — a wrong password, a password missing, a user that is disabled, too
// many clients, a Redis too old for RESP3 — so gw asks once more on a plain socket, the same
// handshake, and reads Redis's own answer: the user gets the cause and the fix, not "unreachable".
// Over TLS the same look tells a certificate gw does not trust (a private CA) from a refusal.

import { redisPassword } from "../config/state.ts";

/** How long the second look may take; past it the plain "Connection closed" stands. */
const ASK_TIMEOUT_MS = 2000;

const UNTRUSTED = "sent a certificate gw does not trust";
const NO_TLS = "does not speak TLS on that port";
/**
 * How a connection ends that was cut before its TLS handshake completed: no certificate was ever
 * judged, the server on that port does not speak TLS (a plain Redis reads the TLS hello as a
 * garbled command and closes). Another CA would not help.
 */
const CUT_BEFORE_TLS = /^(ECONNRESET|EPIPE|ECONNABORTED|ERR_SSL_WRONG_VERSION_NUMBER|ERR_SSL_PACKET_LENGTH_TOO_LONG)\b/;
/** Of a certificate's trouble, the part shown: enough to name it, never the fix's room. */
const CERT_SAID_MAX = 160;
/** A certificate from a trusted CA, made for other names than the URL's: another CA would not help. */
const OTHER_NAME = "ERR_TLS_CERT_ALTNAME_INVALID";

/** Whether a problem is one said here (the cause and the fix, shown as it is), not a network failure. */
export function isRefusal(why: string): boolean {
  return why.startsWith("refused ") || why.startsWith(UNTRUSTED) || why.startsWith(NO_TLS);
}

/** `refused …` (or an untrusted TLS certificate, or no TLS at all): Redis's refusal and what to do about it; undefined when the handshake passes (or cannot be had). */
export async function askRefusal(url: string): Promise<string | undefined> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const user = decodeURIComponent(u.username) || "default";
  const password = redisPassword(url);
  const answer = await firstLine(u, password ? ["HELLO", "3", "AUTH", user, password] : ["HELLO", "3"]);
  if (typeof answer === "object") return tlsTrouble(answer.untrusted);
  if (!answer?.startsWith("-")) return undefined;
  return refusalOf(answer.slice(1)) ?? `refused the connection (${answer.slice(1).trim().slice(0, 100)})`;
}

/** `refused …` with the fix, when a Redis error is one of access (a password, an ACL); else undefined. */
export function refusalOf(error: string): string | undefined {
  // NOAUTH's text explains HELLO's syntax at length; its first word says it all. A refusal inside
  // the streak script names the script's hash, which tells the user nothing.
  const said = /^NOAUTH/.test(error) ? "NOAUTH: Redis wants a password" : error.replace(/ script: \w+, on @user_script:\d+\.?\s*$/, "").trim().slice(0, 100);
  const key = stateKey();
  if (/^(WRONGPASS|NOAUTH)/.test(said)) return `refused the credentials (${said}): put the right password (and user, if Redis has users) in the URL of ${key}`;
  if (/^NOPERM/.test(said)) return `refused a command (${said}): let the user in the URL of ${key} run +@read +@write +@pubsub +@scripting +@connection on its keys and channel (or +@all)`;
  if (/^OOM/.test(said)) return `refused a write (${said}): raise its maxmemory, or set its maxmemory-policy to one that evicts (volatile-lru: every key of gw has a TTL)`;
  if (/^ERR DB index is out of range/i.test(said)) return `refused the database (${said}): put a database it has in the URL of ${key} (/0 to /15, unless its \`databases\` setting is raised)`;
  if (/^ERR unknown command .HELLO/i.test(said)) return `refused gw's handshake (${said}): gw needs Redis 6 or later, or Valkey`;
  return undefined;
}

// --- internal ---

/** A TLS handshake that failed: a server that does not speak TLS there, or a certificate gw does not trust. */
function tlsTrouble(why: string): string {
  const said = why.length > CERT_SAID_MAX ? `${why.slice(0, CERT_SAID_MAX - 1)}…` : why;
  if (CUT_BEFORE_TLS.test(why)) return `${NO_TLS} (${said}): use redis:// in the URL of ${stateKey()}, or the port of its TLS listener`;
  return `${UNTRUSTED} (${said}): ${why.startsWith(OTHER_NAME) ? `put a name it was made for in the URL of ${stateKey()}` : "give gw the CA that signed it with NODE_EXTRA_CA_CERTS=/path/to/ca.pem"}`;
}

const stateKey = () => (process.env.GW_STATE ? "$GW_STATE" : "[global] state");

/**
 * Send one command on a fresh connection and return the first line of the answer — or, over TLS,
 * why the server's certificate is not trusted (Bun's client closes such a connection unsaid).
 */
function firstLine(u: URL, args: readonly string[]): Promise<string | { untrusted: string } | undefined> {
  const request = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
  const port = Number(u.port) || 6379;
  const tls = u.protocol === "rediss:";
  return new Promise((resolve) => {
    let got = "";
    // Ended at the deadline too: a server that says nothing would otherwise hold it open.
    let socket: { end(): void } | undefined;
    const timer = setTimeout(() => {
      socket?.end();
      resolve(undefined);
    }, ASK_TIMEOUT_MS);
    const done = (line: string | { untrusted: string } | undefined) => {
      clearTimeout(timer);
      resolve(line);
    };
    Bun.connect({
      hostname: u.hostname.replace(/^\[|\]$/g, ""),
      port,
      tls,
      socket: {
        // A TLS socket takes no bytes before its handshake (write returns 0, the request is lost),
        // and one whose certificate is not trusted must never get the password.
        open(s) {
          socket = s;
          if (!tls) s.write(request);
        },
        handshake(s, trusted, why) {
          if (trusted) return void s.write(request);
          done({ untrusted: `${(why as { code?: string } | null)?.code ?? "TLS"}: ${why?.message ?? "not trusted"}` });
          s.end();
        },
        data(s, chunk) {
          got += chunk.toString();
          const end = got.indexOf("\r\n");
          if (end < 0) return;
          done(got.slice(0, end));
          s.end();
        },
        close: () => done(got || undefined),
        error: () => done(undefined),
        connectError: () => done(undefined),
      },
    }).catch(() => done(undefined));
  });
}
