// Client keys: when `[global] api_keys` is set, every proxied request must carry one of them, in
// any of the places CLIProxyAPI accepts a key, so existing clients work unchanged.

/** The key a client presented, or undefined: Bearer, x-api-key, x-goog-api-key, then `?key=`. */
export function presentedKey(headers: Headers, url: URL): string | undefined {
  const auth = headers.get("authorization");
  if (auth) {
    const m = /^bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1]!.trim();
  }
  return headers.get("x-api-key") ?? headers.get("x-goog-api-key") ?? url.searchParams.get("key") ?? undefined;
}

type KeyCheck = "ok" | "missing" | "invalid";

/** Whether the request may pass; an empty key set means no client auth is required. */
export function checkClientKey(keys: ReadonlySet<string>, headers: Headers, url: URL): KeyCheck {
  if (keys.size === 0) return "ok";
  const key = presentedKey(headers, url);
  if (key === undefined || key === "") return "missing";
  return keys.has(key) ? "ok" : "invalid";
}
