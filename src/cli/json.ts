// Every `--json` output of gw uses snake_case keys, like the request log (observe/record.ts),
// `gw usage --json` and the config file itself: one convention for scripts and jq.
// Internal data (the control socket's StatusReport, …) stays camelCase; it is converted here,
// on the way out.

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Object keys in snake_case, deeply. Only for outputs whose keys are field names, not data. */
export function snakeKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snakeKeys);
  if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [snake(k), snakeKeys(x)]));
  }
  return v;
}

/** Print one JSON document for scripts (pretty by default, one line with `compact`). */
export function printJson(data: unknown, compact = false): void {
  console.log(JSON.stringify(snakeKeys(data), null, compact ? undefined : 2));
}
