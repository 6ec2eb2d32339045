// The one test for "a JSON object" (not null, not an array) that every reader of parsed JSON, YAML
// or TOML uses, and the list filter beside it. Pure and allocation-free: the load balancer calls
// it on every request body and opening event. And the parse of a text that may be one (an event's
// data, an error body), which the load balancer's readers of events and errors share.

export type JsonObject = Record<string, unknown>;

/** An object that is not null and not an array: what JSON.parse gives for `{…}`. */
export const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

/** `v` when it is an object, else undefined: for `asObject(x)?.field` and `asObject(x) ?? {}`. */
export const asObject = (v: unknown): JsonObject | undefined => (isObject(v) ? v : undefined);

/** The objects in `v` when it is a list (other entries passed over); [] when it is not one. */
export const objectsIn = (v: unknown): JsonObject[] => (Array.isArray(v) ? v.filter(isObject) : []);

/** The JSON object `text` holds (an event's data, an error body), or undefined (not JSON, or not an object). */
export function parseObject(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith("{")) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return asObject(v);
  } catch {
    return undefined;
  }
}
