// The old launcher's three scenarios (main / fast / opus), apart from the [cld] reader (extras.ts):
// cld's route list — every TAB on a route name — needs them without the config reader and smol-toml
// when there is no config to read (bench/startup.ts).
import type { Scenario } from "./types.ts";

/** Keyed without a prototype, as the reader keys names (keyedByName): a scenario may be called "constructor". */
export const DEFAULT_SCENARIOS: Readonly<Record<string, Scenario>> = Object.assign(Object.create(null) as Record<string, Scenario>, {
  Performance: { main: "opus4.6", fast: "g3f", opus: "opus4.6" },
  Balanced: { main: "g3f", fast: "g3f", opus: "opus4.6" },
  Economy: { main: "g3f", fast: "g3f", opus: "g3p" },
});
