// Client-key check exactly like CLIProxyAPI's config access provider: an empty key list means no
// auth at all; otherwise any of Bearer / x-goog-api-key / x-api-key / ?key= / ?auth_token= must
// carry a listed key. Its 401 bodies come from gin's c.JSON (note the charset).

const GIN_JSON = { "content-type": "application/json; charset=utf-8" };
const MISSING = '{"error":"Missing API key"}';
const INVALID = '{"error":"Invalid API key"}';

/** Bearer token, or the whole header when it is not "Bearer x" (as CLIProxyAPI does). */
function bearer(header: string): string {
  const sp = header.indexOf(" ");
  if (sp < 0 || header.slice(0, sp).toLowerCase() !== "bearer") return header;
  return header.slice(sp + 1).trim();
}

/** null when the request may pass, else the 401 to send. */
export function checkClientKey(req: Request, url: URL, keys: ReadonlySet<string>): Response | null {
  if (keys.size === 0) return null;
  const h = req.headers;
  const authorization = h.get("authorization") ?? "";
  const candidates = [
    authorization && bearer(authorization),
    h.get("x-goog-api-key") ?? "",
    h.get("x-api-key") ?? "",
    url.searchParams.get("key") ?? "",
    url.searchParams.get("auth_token") ?? "",
  ];
  if (candidates.every((c) => !c) && !authorization) return new Response(MISSING, { status: 401, headers: GIN_JSON });
  if (candidates.some((c) => c && keys.has(c))) return null;
  return new Response(INVALID, { status: 401, headers: GIN_JSON });
}

export function ginJson(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: GIN_JSON });
}
