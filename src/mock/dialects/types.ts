import type { Answer } from "../answer.ts";
import type { ErrorText } from "../errors.ts";
import type { StreamPlan } from "../stream.ts";

/** One API family as CLIProxyAPI serves it: its answer bodies, stream frames and error shape. */
export interface Dialect {
  /** Body of a status error (CLIProxyAPI's handler for this family shapes it; `stream`: the request asked for a stream). */
  errorBody(e: ErrorText, stream: boolean): string;
  /** The complete non-streamed answer. */
  json(a: Answer): string;
  /**
   * A stream whose upstream ended before any data: the body of the 200 CLIProxyAPI still sends,
   * or the error status it answers instead (its handlers' "closed without data" branches).
   */
  emptyStream: string | ErrorText;
  /** The streamed answer; `error` is what an in-stream error event must carry. */
  stream(a: Answer, error?: ErrorText): StreamPlan;
}

/** `event: NAME\ndata: JSON\n\n` */
export const sse = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
/** `data: JSON\n\n` */
export const sseData = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;
