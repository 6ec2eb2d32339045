// The top-level tables. A table under a slightly wrong name ([instance.a], [routes]) is one
// error — for the name — and nothing that follows from the slip is reported: its content is read
// as the table it means, or, when the file has that table too, its entries still count as
// declared (routes naming them are not "unknown instance" errors).
import { type Field, isTable, type Raw, type Reader } from "./reader.ts";
import { globalKeyElsewhere } from "./global.ts";
import { nearMiss } from "./suggest.ts";

export const TOP_KEYS = ["global", "instances", "routing", "cld", "pricing"];

interface Top {
  readonly fields: Map<string, Field>;
  /** Entries of misnamed tables that could not be read in place: the table meant → their names. */
  readonly misnamed: ReadonlyMap<string, readonly string[]>;
}

export function readTop(r: Reader, doc: Raw): Top {
  const rest: Raw = {};
  const adopted = new Map<string, Field>();
  const misnamed = new Map<string, string[]>();
  for (const [key, value] of Object.entries(doc)) {
    const meant = TOP_KEYS.includes(key) ? undefined : (nearMiss(key, TOP_KEYS) ?? (looksLikeRouting(value) ? "routing" : undefined));
    if (!meant || !isTable(value)) {
      rest[key] = value;
      continue;
    }
    r.error([key], `[${key}] is not a table gw knows — did you mean [${meant}]?`, `rename it to [${meant}]; gw reads nothing from it as written`);
    if (meant in doc || adopted.has(meant)) misnamed.set(meant, [...(misnamed.get(meant) ?? []), ...Object.keys(value)]);
    else adopted.set(meant, { raw: key, value, path: [key] });
  }
  const fields = r.fields([], rest, TOP_KEYS, globalKeyElsewhere());
  for (const [k, f] of adopted) fields.set(k, f);
  return { fields, misnamed };
}

/** Route-shaped: every entry a list of tables that name an instance (`"m" = [{ instance = … }]`). */
function looksLikeRouting(v: unknown): boolean {
  if (!isTable(v)) return false;
  const entries = Object.values(v);
  return entries.length > 0 && entries.every((e) => Array.isArray(e) && e.length > 0 && e.every((t) => isTable(t) && "instance" in t));
}
