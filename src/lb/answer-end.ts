// Where an answer ends, in any dialect: the last event of a relayed stream's whole events (so a
// relay that keeps its connection open after [DONE] is not waited on) and each line of a stream
// the usage reader sees (observe/tokens.ts).

import { parseObject } from "../json/object.ts";
import { judgeEvent } from "./first-event.ts";
import { parseEvent } from "./sse-events.ts";

/**
 * Whether whole events (WholeEvents' output, so an event cut across reads arrives in one piece)
 * end with one judgeEvent calls the end — OpenAI's `data: [DONE]`: nothing after it belongs to the
 * answer, and a client reading to the end (not every SDK stops at [DONE]) must not wait on a relay
 * that keeps the connection open. Only bytes ending in `]` and a blank line are decoded, so content
 * costs a few byte reads.
 */
export function endsAnswer(events: Uint8Array): boolean {
  let i = events.byteLength - 1;
  let newlines = 0;
  for (; i >= 0 && (events[i] === 0x0a || events[i] === 0x0d); i--) newlines += events[i] === 0x0a ? 1 : 0;
  if (newlines < 2 || events[i] !== 0x5d) return false; // not "]" + blank line
  let start = i; // back to the blank line before the last event ("\n\n" or "\n\r\n"), or the start
  while (start > 0 && !(events[start - 1] === 0x0a && (events[start - 2] === 0x0a || (events[start - 2] === 0x0d && events[start - 3] === 0x0a)))) start--;
  return judgeEvent(parseEvent(latin1.decode(events.subarray(start, i + 1)).replace(/\r\n?/g, "\n"))) === "end";
}

const latin1 = new TextDecoder("latin1");

/**
 * Whether a line of an event stream (`event: …` or `data: …`) says the answer is whole, in any
 * dialect — generously, so no complete answer from a real relay goes without one: Anthropic
 * message_stop or a message_delta with its stop_reason, OpenAI's [DONE] or a chunk whose choice
 * has its finish_reason (relays that send no [DONE]), Responses completed or incomplete (by name:
 * the data of a response.completed, the whole answer, may be too long a line to be read), a Gemini
 * candidate with its finishReason or a prompt it blocked (promptFeedback.blockReason, no candidate).
 * Relays that send no `event:` lines may put the type anywhere (Python's models put it last). A
 * line too long to be read whole (tokens.ts drops its middle: a Gemini image is followed by its
 * finishReason) that sets such a field counts as an end. A stream that closes before one was cut
 * (stream.ts). Content costs a scan or two; only data that sets such a field is parsed.
 */
export function endsTheAnswer(line: string): boolean {
  if (line.startsWith("event:")) return END_EVENT.test(line);
  if (!line.startsWith("data:")) return false;
  if (END_DATA.test(line) || END_TYPE.test(line)) return true;
  if (!setsStop(line)) return false;
  const o = parseObject(line.slice(line.charCodeAt(5) === 32 ? 6 : 5));
  if (!o) return true; // too long a line, read in part
  if (isSet((o.promptFeedback as Record<string, unknown> | undefined)?.blockReason)) return true;
  if (o.type === "message_delta") return isSet((o.delta as Record<string, unknown> | undefined)?.stop_reason);
  const choices = (o.choices ?? o.candidates) as Record<string, unknown>[] | undefined;
  return Array.isArray(choices) && choices.some((c) => isSet(c?.finish_reason) || isSet(c?.finishReason));
}

const END_EVENT = /^event: ?(?:message_stop|response\.completed|response\.incomplete)$/;
const END_DATA = /^data: ?\[DONE\]$/;
/** An end named by the data alone, anywhere in it (a quote inside a JSON string is escaped: text cannot look so). */
const END_TYPE = /"type": ?"(?:message_stop|response\.completed|response\.incomplete)"/;

/**
 * Whether a data line may set a stop_reason, finish_reason, finishReason or blockReason: such a
 * key set to a string (JSON escapes every quote inside a string: text cannot look so). A scan,
 * not a regex: it runs on every line of every stream, and every chat chunk says
 * `"finish_reason":null`.
 */
function setsStop(line: string): boolean {
  for (let i = line.indexOf('eason"'); i !== -1; i = line.indexOf('eason"', i + 6)) {
    let j = i + 6;
    while (line.charCodeAt(j) === 32) j++;
    if (line.charCodeAt(j++) !== 58) continue; // ":"
    while (line.charCodeAt(j) === 32) j++;
    // A string, under a stop key: a tool's `"reason":"…"` argument at the end of a line too long to parse is none.
    if (line.charCodeAt(j) === 34 && STOP_KEY.test(line.slice(Math.max(0, i - 9), i))) return true;
  }
  return false;
}

/** Before `eason"`: the stop keys, and no other (`"reason"`, `"change_reason"`). */
const STOP_KEY = /"(?:stop_r|finish_r|finishR|blockR)$/;

const isSet = (v: unknown) => typeof v === "string" && v !== "";
