// `proxy` ([global] and per instance): the outbound proxy every instance's YAML gets as proxy-url.
// Checked when the file is read: text that is no proxy URL went into every instance's YAML, and
// each instance's requests failed upstream with nothing in gw pointing at the key.

/** The schemes CLIProxyAPI's proxy-url takes (Go's net/http and its SOCKS5 dialer). */
const SCHEMES = ["http:", "https:", "socks5:", "socks5h:"];

/** Why `value` is no proxy URL, or undefined when it is one ("" is no proxy at all, as before). */
export function proxyUrlProblem(value: string): string | undefined {
  if (value === "") return undefined;
  let u: URL | undefined;
  try {
    u = new URL(value);
  } catch {}
  if (u && SCHEMES.includes(u.protocol.toLowerCase()) && u.hostname !== "") return undefined;
  return u && /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? `its scheme is not one a proxy URL has (${SCHEMES.map((s) => s.slice(0, -1)).join(", ")})` : "it is not a URL";
}
