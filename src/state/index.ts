export type { CoolingEntry, LearnedCooldown, StateBackend, StateChange, StateHealth, StateStore } from "./types.ts";
export { availableAt, isAvailable, isHalfOpen, keepsOut } from "./types.ts";
export { CLOCK_SLACK_MS, createMemoryStore, type LocalStore, STICKY_TTL_MS, STREAK_TTL_MS } from "./memory.ts";
export { type CooldownSet, recordAttempt, recordRequestEnd } from "./apply.ts";
export { memoryBackend, openState, stateReloadWarning } from "./open.ts";
export { readOnly } from "./read-only.ts";
