// Bun's fetch thread runs under SCHED_BATCH once the LB has proxied a request (lb/fetch-thread.ts):
// its wake-ups no longer preempt the busy main thread. Linux only.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { configFrom, externalInstances, startTestGateway, testUpstream } from "../helpers/lb.ts";

/** A thread's scheduling policy (/proc's stat, field 41). */
function policy(tid: string | number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[41 - 3]); // fields from 3 on
}

const fetchThread = () => readdirSync("/proc/self/task").find((t) => readFileSync(`/proc/self/task/${t}/comm`, "utf8").trim() === "HTTP Client");

const SCHED_OTHER = 0;
const SCHED_BATCH = 3;

test.skipIf(process.platform !== "linux")("after a proxied request the fetch thread is SCHED_BATCH, the main thread is not", async () => {
  const up = testUpstream(() => Response.json({ ok: true }));
  const gw = startTestGateway(configFrom(`${externalInstances({ a: up.url })}\n[routing]\n"m" = [{ instance = "a", provider = "anthropic", model = "up" }]\n`));
  try {
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: '{"model":"m"}' });
    expect(res.status).toBe(200);
    await res.text();
    expect(policy(fetchThread()!)).toBe(SCHED_BATCH);
    expect(policy(process.pid)).toBe(SCHED_OTHER);
  } finally {
    await gw.stop(0);
    await up.stop();
  }
});
