export type { CoolingEntry, LearnedCooldown, StateBackend, StateHealth, StateStore } from "./types.ts";
export { availableAt, isHalfOpen, keepsOut } from "./types.ts";
export { createMemoryStore } from "./memory.ts";
export { type AttemptEffect, type CooldownSet, recordAttempt, recordRequestEnd } from "./apply.ts";
export { memoryBackend, openState, stateReloadWarning } from "./open.ts";
export { readOnly } from "./read-only.ts";
