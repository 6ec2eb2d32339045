// The secrets a config holds, for the masker to look for by value (mask.ts maskerOf): every key,
// the credentials written into URLs, and the credential headers routes send. The written-secrets
// check of instance files (instances/written-secrets.ts) reads URLs the same way.

import type { Config } from "../config/types.ts";
import { decodeSafe, KEY_PARAM } from "./secret-shapes.ts";

/**
 * Every secret the config holds: client, admin, instance and provider keys, the credentials
 * written into URLs (`https://user:password@relay`, a proxy's `http://user:pass@host:3128`, a
 * shared state's `rediss://default:pass@cache`, a relay's `?key=…`), and what a route's
 * extra_headers send as a credential (`X-Relay-Token`, `Authorization`).
 */
export function secretsOf(config: Config): string[] {
  const out = new Set<string>([...config.global.apiKeys, config.global.adminKey]);
  const urls = [config.global.proxy];
  for (const inst of config.instances) {
    out.add(inst.apiKey);
    urls.push(inst.baseUrl, inst.proxy);
    for (const p of inst.providers) {
      for (const k of p.apiKeys) out.add(k);
      urls.push(p.baseUrl);
    }
  }
  if (config.global.state.kind === "redis") urls.push(config.global.state.url);
  for (const u of urls) for (const part of urlSecrets(u)) out.add(part);
  for (const route of config.routes.values()) {
    for (const t of route.targets) {
      for (const [name, value] of Object.entries(t.params.extraHeaders)) {
        if (CREDENTIAL_NAME.test(name)) for (const part of credentialParts(value)) out.add(part);
      }
    }
  }
  out.delete("");
  return [...out];
}

/** The credentials a URL carries: its userinfo's secret and its credential query values. */
export function urlSecrets(url: string | undefined): string[] {
  return url ? [...userinfoOf(url), ...queryKeysOf(url)] : [];
}

/**
 * The secret of a URL's userinfo, as written and percent-decoded: the password, or a user name
 * that stands alone (a token as user, `https://TOKEN@host`). A user name beside a password is a
 * name ("user", "admin"), not a secret, and masking it everywhere would garble ordinary text.
 * And the whole userinfo as fetch sends it — `Authorization: Basic base64(user:password)`, decoded
 * (`Proxy-Authorization` for a proxy) — for an upstream that quotes the header it was sent.
 */
function userinfoOf(url: string): string[] {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#@]+)@/i.exec(url);
  if (!m) return [];
  const info = m[1]!;
  const colon = info.indexOf(":");
  const secret = colon === -1 ? (info.length >= 8 ? info : "") : info.slice(colon + 1);
  if (secret.length < 4) return [];
  const user = colon === -1 ? info : info.slice(0, colon);
  const basic = Buffer.from(`${decodeSafe(user)}:${colon === -1 ? "" : decodeSafe(secret)}`).toString("base64");
  return [secret, decodeSafe(secret), basic].filter((x) => x.length >= 4);
}

/** Header names whose values are credentials, beyond CREDENTIAL_HEADERS: `X-Relay-Token`, `X-Goog-User-Key`… */
const CREDENTIAL_NAME = /auth|key|token|secret|passw|cookie|session|signature|credential/i;

/** A credential header's value, and its token alone when it has a scheme (`Bearer abc`). */
function credentialParts(value: string): string[] {
  const m = /^(?:bearer|basic|token)\s+(\S+)$/i.exec(value.trim());
  return m ? [value, m[1]!] : [value];
}

/** Values of credential query parameters (KEY_PARAM's names) in a URL, as written and decoded. */
function queryKeysOf(url: string): string[] {
  const out: string[] = [];
  for (const m of url.matchAll(KEY_PARAM)) out.push(m[2]!, decodeSafe(m[2]!));
  return out.filter((x) => x.length >= 4);
}
