// What a short-lived child wrote to its stdout and stderr, read until the child exits — not until
// its pipes close. A background child it left behind (a wrapper's update check, a daemon it
// starts) inherits them and may hold them open for as long as it runs: a `gw upgrade BINARY`
// whose `--version` did so waited for that child, and held every later upgrade meanwhile.

/** After the child exits, how long what it wrote may take to be read: it is in the pipe already, a few turns of the event loop. */
const READ_AFTER_EXIT_MS = 500;

interface Piped {
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly exited: Promise<number>;
}

/** The child's exit code and what it wrote, once it has exited; pipes still held by others are let go. */
export async function outputUntilExit(proc: Piped): Promise<{ out: string; err: string; code: number }> {
  const out = collect(proc.stdout);
  const err = collect(proc.stderr);
  const code = await proc.exited;
  let timer: Timer | undefined;
  await Promise.race([Promise.all([out.ended, err.ended]), new Promise((r) => (timer = setTimeout(r, READ_AFTER_EXIT_MS)))]);
  clearTimeout(timer);
  out.stop();
  err.stop();
  return { out: out.text(), err: err.text(), code };
}

/** Read `stream` in the background: what came so far, whether it ended, and a way to stop reading. */
function collect(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  const dec = new TextDecoder();
  let text = "";
  const ended = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        text += dec.decode(value, { stream: true });
      }
    } catch {} // cancelled by stop()
  })();
  return { ended, text: () => text, stop: () => void reader.cancel().catch(() => {}) };
}
