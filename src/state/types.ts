// The LB's mutable memory — cooldowns, sticky sessions, failure streaks — behind one small
// interface. The LB reads and writes it synchronously, in memory; backends (state/sqlite.ts,
// state/redis.ts) receive its changes off the request path and feed it what they load.

/** Why a target is cooling; mirrors the outcome classes of lb/classify.ts plus the sub-kinds of auth. */
export type CooldownKind =
  | "auth"
  | "validation"
  | "quota"
  | "signature"
  | "transient"
  | "transient_heavy"
  | "connection"
  | "timeout";

export interface Cooldown {
  /** Epoch ms the cooldown ends; after it the target is half-open (one trial request). */
  readonly until: number;
  readonly kind: CooldownKind;
  /** Short human text for status/log (never a secret). */
  readonly reason: string;
  readonly setAt: number;
  /** While now < trialUntil a half-open trial is in flight and others keep away. */
  readonly trialUntil?: number;
}

/** What a probe's claim on a cooldown's trial found (StateStore.claimProbe). */
export type ProbeClaim = "mine" | "held" | "answered";

/** A cooldown a store took in from elsewhere (StateBackend.onLearned). */
export interface LearnedCooldown {
  readonly route: string;
  readonly target: string;
  readonly until: number;
}

export interface CoolingEntry extends Cooldown {
  readonly route: string;
  readonly target: string;
  /** Cooldown over, waiting for a trial request to confirm the target. */
  readonly halfOpen: boolean;
}

/** The read side that pure policies (route.ts) see. */
export interface StateView {
  /**
   * The cooldown entry of (route, target), including one that has ended but was not yet cleared
   * by a success — that one means "half-open". Undefined = healthy. One that started after `now`
   * (the wall clock went back since) is first moved to start at `now`: see CLOCK_SLACK_MS.
   */
  cooldown(route: string, target: string, now: number): Cooldown | undefined;
  /** Target id remembered for a sticky key, if fresh; does not extend the TTL (reads are pure). */
  sticky(key: string, now: number): string | undefined;
}

export interface StateStore extends StateView {
  setCooldown(route: string, target: string, c: Omit<Cooldown, "trialUntil">): void;
  /** A success (2xx) on the target: it is healthy again. */
  clearCooldown(route: string, target: string): void;
  /**
   * A half-open target was picked for its one trial request: claim the trial, so others stay away
   * until `until`. True = this caller holds it and sends the trial. Marks it locally at once (before
   * any await, so concurrent requests in this process see it); a shared backend also claims it
   * across replicas and answers false when another replica holds it, or when no probe of the
   * cooldown has answered yet (claimProbe) — the one place the request path may wait for a
   * backend (one round trip, and only for a half-open target).
   */
  claimTrial(route: string, target: string, until: number): boolean | Promise<boolean>;
  /**
   * The prober (lb/probe.ts) claims the trial of a cooling target for its token-free probe, which
   * runs before any request may be the trial; marked locally as claimTrial does. "mine": probe it
   * (a claim this caller held already is renewed until `until`). "held": another replica's probe
   * holds it — ask again later, that replica may die before its probe answers. "answered":
   * another replica's probe of this cooldown answered already — no probe is needed, requests may
   * take the trial. One process alone always gets "mine". A shared backend lets a request take
   * the trial (claimTrial) only once a probe answered, or when this process's prober never asked
   * for this cooldown: so a request never slips in between a dead holder's claim and the next probe.
   */
  claimProbe(route: string, target: string, until: number): ProbeClaim | Promise<ProbeClaim>;
  /** The probe claimProbe gave this caller answered: the trial is the next request's, on every replica. */
  probeAnswered(route: string, target: string): void;
  /**
   * The trial in flight shows life past its window — a tool call began and its input is awaited
   * (lb/due.ts AttemptDeadline.toolCallBegan), which may take minutes: others keep away until
   * `until` too, or each would be a trial of its own. Nothing when no trial is claimed.
   */
  extendTrial(route: string, target: string, until: number): void;
  /** The trial ended without a verdict (client left, client error): the next request may try again. */
  endTrial(route: string, target: string): void;
  /** Remember (or refresh: sliding TTL) the sticky target for a key. */
  setSticky(key: string, target: string, now: number): void;
  clearSticky(key: string): void;
  /** Current failure streak of a (session|"anon", model) key; 0 when absent or expired. */
  streak(key: string, now: number): number;
  /** Count one more failure; returns the new streak. */
  addFailure(key: string, now: number): number;
  resetStreak(key: string): void;
  /** Cooldowns still running or half-open at `now`, soonest end first (status page, metrics). */
  coolingList(now: number): CoolingEntry[];
}

/**
 * One change to the store, as a backend persists or shares it. Trials are not changes: they live
 * as long as one request, and a shared backend claims them itself (claimTrial).
 */
export type StateChange =
  | { readonly op: "setCooldown"; readonly route: string; readonly target: string; readonly c: Omit<Cooldown, "trialUntil"> }
  /**
   * `setAt`, `until`: the cooldown period it ended. Then it ends that period or an older one only
   * (a replica that cooled the target anew meanwhile keeps its newer one), and Redis keeps its
   * mark for as long as the period would have lived (redis-keys.ts cx:). Absent: whatever is there.
   */
  | { readonly op: "clearCooldown"; readonly route: string; readonly target: string; readonly setAt?: number; readonly until?: number }
  /**
   * `was`: the target the writer's memory held for the key — the one this write moves the
   * session away from or refreshes, `null` for a session new to it. A shared backend writes it
   * only while the key still holds that target (or none): a session whose first turns reached two
   * replicas at once keeps the first one's pick, and the other replica takes it (redis-merge.ts).
   * Absent: written whatever the key holds (a re-sync's merge, a state file's load).
   */
  | { readonly op: "setSticky"; readonly key: string; readonly target: string; readonly at: number; readonly was?: string | null }
  | { readonly op: "clearSticky"; readonly key: string }
  /** The streak of `key` is now `n` (after a failure at `at`). */
  | { readonly op: "setStreak"; readonly key: string; readonly n: number; readonly at: number }
  | { readonly op: "resetStreak"; readonly key: string };

/** Where state lives and whether that place answers, for `gw status`, /metrics and the status page. */
export interface StateHealth {
  readonly backend: "memory" | "local" | "redis";
  /** False while the backend cannot be written (Redis unreachable, state file unwritable). */
  readonly up: boolean;
  /** Where, without secrets: the file, or the Redis URL without its password. */
  readonly where: string;
  /** One line on what is wrong while not up. */
  readonly problem?: string;
  /** Epoch ms since when it is down. */
  readonly downSince?: number;
  /**
   * How long this gw has known it down (ms, on its monotonic clock): the age to show, which
   * `now − downSince` is not once the wall clock has stepped (NTP after a sleep, a resumed VM).
   */
  readonly downForMs?: number;
}

/** A backend's moment of going down: on the wall clock (shared, persisted) and on the monotonic one (for its age). */
export interface DownMark {
  readonly since: number;
  readonly at: number;
}

export const downMark = (since: number): DownMark => ({ since, at: performance.now() });

/** The StateHealth fields of a backend down since `mark` for `problem`. */
export function downHealth(problem: string, mark: DownMark): Pick<StateHealth, "problem" | "downSince" | "downForMs"> {
  return { problem, downSince: mark.since, downForMs: Math.round(performance.now() - mark.at) };
}

/** Where a backend says what went wrong (once) and that it is back: gw's log. */
export interface StateLog {
  info(msg: string): void;
  warn(msg: string): void;
}

/** A store with the backend behind it: what the gateway holds and its creator closes. */
export interface StateBackend extends StateStore {
  /**
   * Call `listener` for every cooldown the store takes in from elsewhere from now on — heard from
   * another replica, read at a late Redis connect, taken in after an upgrade's hand-over — that is
   * new here: one it did not have, or a new period (another end) of one it had. A copy it already
   * holds (Redis giving back this gw's own entry on a re-sync) is no news. The prober hangs here
   * (lb/probe.ts watchStore), so such a cooldown is probed before its trial like one set here.
   */
  onLearned(listener: (c: LearnedCooldown) => void): void;
  health(): StateHealth;
  /**
   * Take in what another gw wrote to the same place meanwhile — the gw this one took over from
   * in an upgrade, once it has exited: entries this gw does not have yet are added. A shared
   * backend hears such changes live, so it has nothing to do.
   */
  refresh(): void;
  /** Write out what is pending and let go of files and connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Whether cooldown `c` stands for a request (`signed`: it carries signed thinking). A
 * thinking-signature cooldown keeps out signed requests only: a target that rejected a signature
 * it cannot verify (one another account or provider made) serves every other request as well as
 * before, and an unsigned answer from it says nothing of the signatures it rejected.
 */
export function keepsOut(c: Cooldown, signed: boolean | undefined): boolean {
  return c.kind !== "signature" || signed === true;
}

/** Is (route, target) usable at `now`? Healthy, or half-open with no trial in flight. */
export function isAvailable(c: Cooldown | undefined, now: number): boolean {
  if (!c) return true;
  if (now < c.until) return false;
  return c.trialUntil === undefined || now >= c.trialUntil;
}

/** When an unavailable target becomes usable again (the later of cooldown end and trial end). */
export function availableAt(c: Cooldown | undefined): number {
  if (!c) return 0;
  return Math.max(c.until, c.trialUntil ?? 0);
}

/**
 * A half-open entry — its cooldown over, no trial has cleared it — is forgotten this long after
 * its end, in every store (forgottenAt). The cooldown was evidence of a failure; after ten quiet
 * minutes it is stale, and the target is simply healthy again, as LiteLLM's cooldowns and Envoy's
 * ejections just expire. Without it a thinking-signature entry, whose trial only a signed request
 * takes, would live for days on a route no signed request reaches.
 */
export const HALF_OPEN_KEEP_MS = 10 * 60_000;

/**
 * When the entry `c` is forgotten (epoch ms), the one rule of every store: the memory copy drops
 * it when read then, the state file loads and keeps rows until then, Redis sets it as the key's
 * TTL. A trial claimed past that keeps it until the trial ends, so others still keep away.
 */
export function forgottenAt<C extends Pick<Cooldown, "until" | "trialUntil">>(c: C): number {
  return Math.max(c.until + HALF_OPEN_KEEP_MS, c.trialUntil ?? 0);
}

/**
 * Whether cooldown `a` takes the place of `b` for the same (route, target) when one of them comes
 * from elsewhere: a store taking in what it hears (memory.ts apply), Redis taking a write
 * (redis-merge.ts, the same rule in Lua). So replicas that hear two cooldowns in either order keep
 * the same one — and its end, which names the probe's and the trial's claims.
 * The later start wins (a new failure); of two that started in the same ms, the earlier end (a
 * probe that answered ends its instance's hold early: lb/probe.ts), then the greater kind.
 * Not the later end: a newer, shorter cooldown (that early end; a transient failure of an
 * unsigned request on a target a signature cooldown keeps out from signed ones only) must win.
 */
export function outranks(a: Cooldown, b: Cooldown): boolean {
  if (a.setAt !== b.setAt) return a.setAt > b.setAt;
  if (a.until !== b.until) return a.until < b.until;
  return a.kind > b.kind;
}

/** Cooldown expired but not yet cleared by a success: the next pick is a trial. */
export function isHalfOpen(c: Cooldown | undefined, now: number): boolean {
  return c !== undefined && now >= c.until;
}
