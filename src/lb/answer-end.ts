// Where an answer ends, in any dialect: the last event of a relayed stream's whole events (so a
// relay that keeps its connection open after [DONE] is not waited on) and each line of a stream
// the usage reader sees (observe/tokens.ts).

import { parseObject } from "../json/object.ts";
import { judgeEvent } from "./first-event.ts";
import { parseEvent } from "./sse-events.ts";

/**
 * Whether whole events (WholeEvents' output, so an event cut across reads arrives in one piece)
 * end with the last event of their dialect — OpenAI's `data: [DONE]` (judgeEvent's end),
 * Anthropic's message_stop, a Responses stream's response.completed or response.incomplete:
 * nothing after it belongs to the answer, and a client reading to the end (not every SDK stops
 * there) must not wait on a relay that keeps the connection open — until the idle timeout cuts a
 * whole answer as broken. (Gemini names no last event: its finishReason chunk may still be
 * followed by one with the usage.) Only an event that ends in `]` or `}` and names such an end in
 * its bytes is decoded, so content costs a few byte reads and a native search.
 */
export function endsAnswer(events: Uint8Array): boolean {
  let i = events.byteLength - 1;
  let newlines = 0;
  for (; i >= 0 && (events[i] === 0x0a || events[i] === 0x0d); i--) newlines += events[i] === 0x0a ? 1 : 0;
  const close = events[i];
  if (newlines < 2 || (close !== 0x5d && close !== 0x7d)) return false; // not "]" or "}" + blank line
  let start = i; // back to the blank line before the last event ("\n\n" or "\n\r\n"), or the start
  while (start > 0 && !(events[start - 1] === 0x0a && (events[start - 2] === 0x0a || (events[start - 2] === 0x0d && events[start - 3] === 0x0a)))) start--;
  const last = events.subarray(start, i + 1);
  if (close === 0x7d && !LAST_NAMES_BYTES.some((name) => Buffer.prototype.indexOf.call(last, name) !== -1)) return false;
  const ev = parseEvent(latin1.decode(last).replace(/\r\n?/g, "\n"));
  if (close === 0x5d) return judgeEvent(ev) === "end";
  // Named by its `event:` line, or — where a relay sends none — by its data's type.
  return ev.name ? LAST_NAMES.includes(ev.name) : END_TYPE.test(ev.data);
}

const latin1 = new TextDecoder("latin1");
/** The events after which their dialect sends nothing. */
const LAST_NAMES = ["message_stop", "response.completed", "response.incomplete"];
const LAST_NAMES_BYTES = LAST_NAMES.map((n) => Buffer.from(n));

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

const LAST_ALTERNATIVES = LAST_NAMES.map((n) => n.replaceAll(".", "\\.")).join("|");
const END_EVENT = new RegExp(`^event: ?(?:${LAST_ALTERNATIVES})$`);
const END_DATA = /^data: ?\[DONE\]$/;
/** An end named by the data alone, anywhere in it (a quote inside a JSON string is escaped: text cannot look so). */
const END_TYPE = new RegExp(`"type": ?"(?:${LAST_ALTERNATIVES})"`);

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
