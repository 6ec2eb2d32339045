// A store that answers reads from another and drops every write: `gw route explain` runs the
// request path's own decision code (which refreshes sticky keys and the router's session memory
// as it decides) against the running gw's live state, and must leave that state as it found it.

import type { StateStore } from "./types.ts";

export function readOnly(store: StateStore): StateStore {
  return {
    cooldown: (route, target, now) => store.cooldown(route, target, now),
    sticky: (key, now) => store.sticky(key, now),
    streak: (key, now) => store.streak(key, now),
    coolingList: (now) => store.coolingList(now),
    setCooldown() {},
    clearCooldown() {},
    // Granted without marking anything: explain sends no trial.
    claimTrial: () => true,
    claimProbe: () => "mine",
    probeAnswered() {},
    extendTrial() {},
    endTrial() {},
    setSticky() {},
    clearSticky() {},
    addFailure: (key, now) => store.streak(key, now) + 1,
    resetStreak() {},
  };
}
