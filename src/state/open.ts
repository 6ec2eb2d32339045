// The state backend `[global] state` asks for, opened where gw serves (supervisor/run.ts for
// `gw up`, commands/lb.ts for `gw lb`) and closed when it stops. Opening never fails: a state file
// or a Redis that cannot be had leaves gw serving from memory, with a warning and a health flag.

import { describeState } from "../config/state.ts";
import type { Config, StateConfig } from "../config/types.ts";
import { openLocalState } from "./local.ts";
import { createMemoryStore } from "./memory.ts";
import { openRedisState } from "./redis.ts";
import type { StateBackend, StateLog } from "./types.ts";

export async function openState(config: Config, log: StateLog): Promise<StateBackend> {
  const s = config.global.state;
  if (s.kind === "local") return openLocalState({ file: s.file, log });
  if (s.kind === "redis") return openRedisState({ url: s.url, prefix: s.prefix, log });
  return memoryBackend();
}

/** Nothing outlives the process (`state = "memory"`, and tests that start a gateway in-process). */
export function memoryBackend(): StateBackend {
  return {
    ...createMemoryStore(),
    health: () => ({ backend: "memory", up: true, where: "memory" }),
    refresh: () => {},
    close: async () => {},
  };
}

/** A reload cannot move the state elsewhere: the warning to give when it tried, else undefined. */
export function stateReloadWarning(running: StateConfig, next: StateConfig): string | undefined {
  const [a, b] = [describeState(running), describeState(next)];
  return a === b ? undefined : `[global] state changed to ${b}; this gw keeps ${a} until it restarts`;
}
