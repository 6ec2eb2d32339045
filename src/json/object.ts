// The one test for "a JSON object" (not null, not an array) that every reader of parsed JSON, YAML
// or TOML uses, and the list filter beside it. Pure and allocation-free: the load balancer calls
// it on every request body and opening event.

export type JsonObject = Record<string, unknown>;

/** An object that is not null and not an array: what JSON.parse gives for `{…}`. */
export const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

/** `v` when it is an object, else undefined: for `asObject(x)?.field` and `asObject(x) ?? {}`. */
export const asObject = (v: unknown): JsonObject | undefined => (isObject(v) ? v : undefined);

/** The objects in `v` when it is a list (other entries passed over); [] when it is not one. */
export const objectsIn = (v: unknown): JsonObject[] => (Array.isArray(v) ? v.filter(isObject) : []);
