// Server-sent events as gw reads them: bytes split into events as they arrive (UTF-8 and line
// ends across chunk borders), each event its name, data and size. What an event means is
// first-event.ts's (judgeEvent) and answer-end.ts's to say.

export interface SseEvent {
  /** The `event:` field ("" when absent). */
  readonly name: string;
  /** The `data:` lines joined by "\n" ("" when absent: a comment or keep-alive). */
  readonly data: string;
  /** Characters the event took in the stream, its blank line included. */
  readonly size: number;
  /**
   * `data` as a JSON object (null: not one), once judgeEvent or startsToolCall has parsed it
   * (first-event.ts dataObject): an opening both read — an OpenAI chunk naming a tool call — is parsed once.
   */
  parsed?: Record<string, unknown> | null;
}

/**
 * Splits SSE bytes into events as they arrive (UTF-8 across chunk borders, CRLF or LF). An event
 * read in many chunks (a Codex handshake echoes its request's tools: hundreds of KB) is kept in
 * its pieces and each chunk searched alone, so its reads cost its length once, not once per read.
 */
export class EventSplitter {
  private readonly decoder = new TextDecoder();
  /** The event not complete yet, its line ends made "\n", in the pieces it came in. */
  private parts: string[] = [];
  private size = 0;
  /** The last read ended with a \r: half a \r\n, maybe — taken alone for a line end, the \n after it would end the event early (`event: error\r` | `\ndata: …` lost the error its data). */
  private cr = false;

  push(chunk: Uint8Array): SseEvent[] {
    const read = (this.cr ? "\r" : "") + this.decoder.decode(chunk, { stream: true });
    this.cr = read.endsWith("\r");
    const text = (this.cr ? read.slice(0, -1) : read).replace(/\r\n?/g, "\n");
    const out: SseEvent[] = [];
    let start = 0;
    // A blank line across the joint: the held part ends with "\n", this read starts with one.
    if (this.size > 0 && text.charCodeAt(0) === 10 && this.parts[this.parts.length - 1]!.endsWith("\n")) {
      out.push(parseEvent(this.take("").slice(0, -1)));
      start = 1;
    }
    for (let end = text.indexOf("\n\n", start); end !== -1; end = text.indexOf("\n\n", start)) {
      out.push(parseEvent(this.take(text.slice(start, end))));
      start = end + 2;
    }
    if (start < text.length) {
      this.parts.push(text.slice(start));
      this.size += text.length - start;
    }
    return out;
  }

  /** Characters of an event not complete yet. */
  get pending(): number {
    return this.size + (this.cr ? 1 : 0);
  }

  /** The held part of an event, then `last`: the event whole. */
  private take(last: string): string {
    if (this.size === 0) return last;
    const block = this.parts.join("") + last;
    this.parts = [];
    this.size = 0;
    return block;
  }
}

/** One event from its text, its line ends made "\n" (its size counts the blank line that ended it). */
export function parseEvent(block: string): SseEvent {
  let name = "";
  let data: string | undefined;
  for (const line of block.split("\n")) {
    if (line.startsWith("data:")) {
      const v = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
      data = data === undefined ? v : `${data}\n${v}`;
    } else if (line.startsWith("event:")) {
      name = line.slice(line.charCodeAt(6) === 32 ? 7 : 6);
    }
  }
  return { name, data: data ?? "", size: block.length + 2, parsed: undefined };
}
