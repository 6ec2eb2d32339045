// Client-key refusals in gw's log: the first from an address at once, then at most one line a
// minute with the count — never the whole key, never a control character of the client's.
import { expect, test } from "bun:test";
import { REFUSAL_LINE_EVERY_MS, RefusalLog } from "../../src/lb/refusal-log.ts";

function logAt() {
  const lines: string[] = [];
  let now = 1_000_000;
  const log = new RefusalLog({ warn: (l) => lines.push(l) }, () => now);
  return { lines, log, pass: (ms: number) => (now += ms) };
}

test("a stale key retried every second: one line at once, then one a minute saying how many came", () => {
  const { lines, log, pass } = logAt();
  const key = "sk-gw-team-alice-2025-0123456789";
  for (let i = 0; i < 90; i++) {
    log.keyRefused("10.0.0.7", key);
    pass(1_000);
  }
  expect(lines).toEqual([
    "refused a request from 10.0.0.7 with a wrong client key (sk-gw-…6789)",
    "refused a request from 10.0.0.7 with a wrong client key (sk-gw-…6789); 60 refusals from it since the last such line",
  ]);
});

test("each address has its own line; no key, or an address not known, is said as such", () => {
  const { lines, log, pass } = logAt();
  log.keyRefused("10.0.0.7", undefined);
  log.keyRefused("10.0.0.8", "short");
  log.keyRefused(undefined, "x\n[fake] gw: all good\x1b[2J0123456789");
  log.keyRefused("10.0.0.7", undefined);
  pass(REFUSAL_LINE_EVERY_MS);
  log.keyRefused("10.0.0.7", undefined);
  expect(lines).toEqual([
    "refused a request from 10.0.0.7 with no client key",
    "refused a request from 10.0.0.8 with a wrong client key (***)",
    "refused a request from an unknown address with a wrong client key (x?[fak…6789)",
    "refused a request from 10.0.0.7 with no client key; 2 refusals from it since the last such line",
  ]);
});
