export type { Cooldown, CooldownKind, CoolingEntry, StateBackend, StateChange, StateHealth, StateLog, StateStore, StateView } from "./types.ts";
export { availableAt, isAvailable, isHalfOpen } from "./types.ts";
export { CLOCK_SLACK_MS, createMemoryStore, type LocalStore, type MemoryStoreOptions, STICKY_MAX, STICKY_TTL_MS, STREAK_TTL_MS } from "./memory.ts";
export { type AttemptFacts, type CooldownSet, type OutcomeLike, recordAttempt, recordRequestEnd } from "./apply.ts";
export { memoryBackend, openState, stateReloadWarning } from "./open.ts";
export { readOnly } from "./read-only.ts";
