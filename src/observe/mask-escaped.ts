// The masker's passes over a text that holds a backslash (mask.ts text()): each pattern is matched
// on the text as a JSON decoder reads it and the secret masked where it is written, escapes and
// all — a key written `\u0073k-…` or `1\/\/…` is whole again to the client's decoder.

import { jsonView, type JsonView } from "./json-view.ts";
import { MIN_PARTIAL, TOKEN_SHAPES, URL_USERINFO } from "./secret-shapes.ts";

/**
 * text() of a text that holds a backslash: JSON may write any character of a secret escaped
 * (`1\/\/…`, `\u0073k-ant-…`), and the client's decoder makes it whole again. Each pattern is
 * matched on the text as a JSON decoder reads it (json-view.ts), and the part of a match that is
 * the secret replaced in the text as written — what stays, and the head and tail shown of the
 * secret, as written (escapes and all: a JSON string stays one).
 */
export function maskEscaped(s: string, passes: readonly ViewPass[]): string {
  let out = s;
  let view = jsonView(s);
  for (const [re, part] of passes) {
    const next = maskInView(out, view, re, part);
    if (next !== out) view = jsonView((out = next));
  }
  return out;
}

/** Where the secret is in a match (view offsets): the part masked; the rest of the match stays. */
type SecretPart = (m: RegExpExecArray) => readonly [number, number];

export const wholeMatch: SecretPart = (m) => [m.index, m.index + m[0].length];

type ViewPass = readonly [RegExp, SecretPart];

/** After the known secrets: maskTokenShape's and maskUserinfo's choices, as parts of the match. */
export const VIEW_PASSES: readonly ViewPass[] = [
  [TOKEN_SHAPES, (m) => (m[1] && m[2] ? [m.index + m[1].length, m.index + m[0].length] : wholeMatch(m))],
  [URL_USERINFO, (m) => [m.index + m[1]!.length, m.index + m[1]!.length + m[2]!.length]],
];

/** `raw` (seen as `view`) with the secret part of each match of `re` in the view masked as maskSecret masks it. */
function maskInView(raw: string, view: JsonView, re: RegExp, part: SecretPart): string {
  const { text, at } = view;
  let out = "";
  let from = 0;
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const [a, b] = part(m);
    const shown = b - a < MIN_PARTIAL ? "***" : `${raw.slice(at[a], at[a + 6])}…${raw.slice(at[b - 4], at[b])}`;
    out += raw.slice(from, at[a]) + shown;
    from = at[b]!;
  }
  return from === 0 ? raw : out + raw.slice(from);
}
