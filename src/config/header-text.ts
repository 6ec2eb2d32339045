// What an HTTP header can carry, for the config values gw sends as headers (route params'
// extra_headers and anthropic_beta) and the keys that end up in one (and in an instance's YAML).
// Checked when the file is read: the runtime's Headers throws on them, on every request.

/** An RFC 7230 token: the characters a header name may have. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Why `name` cannot be a header name, or undefined when it can. */
export function headerNameProblem(name: string): string | undefined {
  if (TOKEN.test(name)) return undefined;
  return name === "" ? "an empty header name" : `header name ${JSON.stringify(name)} has a character no header name may have (a space, a colon, a quote…)`;
}

/** A line break or NUL: what would end a header (or a YAML line) early. */
export const BREAKING = /[\r\n\0]/;

/** Why `value` cannot be a header value, or undefined when it can (Latin-1 text, no line break or NUL). */
export function headerValueProblem(value: string): string | undefined {
  if (BREAKING.test(value)) return "holds a line break or NUL byte, which would end the header early";
  // Past U+00FF there is no byte to send: fetch's Headers refuses such a value.
  if (/[^\0-\xff]/.test(value)) return "holds a character beyond Latin-1 (one no header can carry)";
  return undefined;
}
