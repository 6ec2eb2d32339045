// How CLIProxyAPI's translators read a request's fields when they echo them: gjson's Result
// accessors (String, Int, Float, Bool, Value), which coerce what they find.

/** gjson's Result.String(): raw JSON for objects and arrays, "" for null. */
export function goString(v: unknown): string {
  if (v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

/** Result.Int(): numbers truncated, strings parsed as integers, true 1, the rest 0. */
export function goInt(v: unknown): number {
  if (typeof v === "number") return Math.trunc(v);
  if (typeof v === "string") return /^-?\d+$/.test(v) ? Number(v) : 0;
  return v === true ? 1 : 0;
}

/** Result.Float(). */
export function goFloat(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") return Number.isFinite(Number(v)) && v.trim() !== "" ? Number(v) : 0;
  return v === true ? 1 : 0;
}

/** Result.Bool(): strconv.ParseBool for strings, non-zero for numbers. */
export function goBool(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") return ["1", "t", "T", "TRUE", "true", "True"].includes(v);
  return false;
}

export function goValue(v: unknown): unknown {
  return v;
}
