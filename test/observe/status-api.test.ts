// The status feed's last-minute numbers (src/observe/status-api.ts): percentiles of the minute's
// requests, whatever the buckets they fell in and however many of a busy bucket's samples it kept.
import { expect, test } from "bun:test";
import { createStatusFeed } from "../../src/observe/status-api.ts";
import { record } from "../helpers/observe.ts";

test("a busy bucket's first bytes weigh for all its requests, not for the samples it keeps", () => {
  let now = 1_000_000_000_000;
  const feed = createStatusFeed(() => ({}) as never, () => now);
  for (let i = 0; i < 1_000; i++) feed.observe(record({ route: "m", ttfb: 50 })); // 256 kept
  now += 5_000;
  for (let i = 0; i < 300; i++) feed.observe(record({ route: "m", ttfb: 2_000 }));
  now += 5_000;
  feed.observe(record({ route: "m", ttfb: 7_000 }));
  const minute = feed.snapshot().lastMinute;
  expect(minute).toEqual({ requests: 1_301, errors: 0, p50: 50, p95: 2_000 });
  now += 60_000; // all of it over a minute ago
  expect(feed.snapshot().lastMinute).toEqual({ requests: 0, errors: 0, p50: null, p95: null });
});
