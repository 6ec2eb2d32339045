// Bun's fetch does its socket work on one "HTTP Client" thread, which sleeps between bursts and
// is woken by each fetch() call. Under Linux's default policy a woken thread preempts the one
// that woke it once that one has run past its time slice — and gw's main thread, busy with 16
// or 64 requests in flight, always has: so every fetch() handed the core to the HTTP thread,
// which sent that one request and slept again, and the main thread came back to cold caches.
// Measured in process (gw alone over the real fetch, 16 in flight, pinned with the upstream to
// one core): 41 preemptions of the main thread and 83 sleeps of the HTTP thread per 100 requests,
// where the bare relay, whose main thread finishes its batch within its slice, has 7 and 24 —
// fetch's synchronous call took 40 µs on average in gw's process against 9 µs in the relay's,
// most of it waiting for the core back (bench/README.md, 2026-12-01 "Why fetch cost more").
// SCHED_BATCH on that thread alone keeps its wake-ups from preempting (it runs when the main
// thread waits, or at the tick), so fetch's work goes in batches again. The main thread keeps the
// default policy (its own wake-ups stay prompt), and nothing gw spawns inherits the setting
// (instances are spawned from the main thread).

import { readdirSync, readFileSync } from "node:fs";
import { libc, ptr, SCHED_BATCH, SYS_SCHED_SETSCHEDULER } from "../sys/libc.ts";

const FETCH_THREAD = "HTTP Client";

let tried = false;

/**
 * Put Bun's fetch thread under SCHED_BATCH, once, after a fetch has answered (the thread exists
 * and has its name by then). True when it was done by this call; false once tried, and where it
 * cannot be (not Linux, no FFI, a Bun whose thread has another name): fetch then works as before.
 */
export function batchFetchThread(): boolean {
  if (tried) return false;
  tried = true;
  const c = libc();
  if (!c || SYS_SCHED_SETSCHEDULER === undefined) return false;
  const tid = fetchThreadId();
  if (tid === undefined) return false;
  const param = new Int32Array(1); // struct sched_param { int sched_priority = 0 }
  return c.syscall(SYS_SCHED_SETSCHEDULER, tid, SCHED_BATCH, ptr(param)) === 0;
}

function fetchThreadId(): number | undefined {
  try {
    for (const t of readdirSync("/proc/self/task")) {
      if (readFileSync(`/proc/self/task/${t}/comm`, "utf8").trim() === FETCH_THREAD) return Number(t);
    }
  } catch {
    // no /proc: leave the thread as it is
  }
  return undefined;
}
