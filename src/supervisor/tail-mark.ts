// Part of the /logs control answer, apart so that control.ts (every control command) does not load
// the log reader and its masker.

/**
 * The line `markTail` puts between the last lines read back and the followed ones: `gw logs -f`
 * resuming on a successor asks for both in one request, so that no line written in between is
 * lost, and shows of the first part only what it has not shown. Asked for by name (`mark`), as an
 * older CLI would print it as a log line; the answer's TAIL_MARK_HEADER says it will come, as an
 * older gw ignores the ask.
 */
export const TAIL_END = { tailEnd: true } as const;
export const TAIL_MARK_HEADER = "x-gw-tail-mark";
