// Ctrl-C on a command that only waits for the running gw (gw up -d's start, a restart's or a
// reload's progress) ends the waiting, not what gw is doing: gw goes on in the background. The
// user who took Ctrl-C for "abort" is told so, instead of a silent exit.
import { typedIn } from "../supervisor/self.ts";

/** `work`, with Ctrl-C meanwhile printing `say` on stderr and ending gw with 130, as a signal would. */
export async function waitingOnly<T>(work: () => Promise<T>, say: () => string): Promise<T> {
  const stop = () => {
    console.error(typedIn(say()));
    process.exit(130);
  };
  process.once("SIGINT", stop);
  try {
    return await work();
  } finally {
    process.off("SIGINT", stop);
  }
}

/** The signals that end a command from outside, and the exit code each gives a shell (128 + its number). */
const ENDING = [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const;

/** How long a failure waits for the signal that may have caused it. */
const SIGNAL_LAG_MS = 100;

/**
 * `work`, with Ctrl-C (or SIGTERM, or the terminal closing) meanwhile running `undo` before gw
 * ends as that signal would: a `finally` does not run when a signal ends the process, and what
 * `work` made for itself (temp files, an ssh master) must not outlive it. `work` failing because
 * of the same signal (its ssh got the Ctrl-C too) is not reported: the signal ends gw.
 */
export async function undoneOnSignal<T>(work: () => Promise<T>, undo: () => Promise<void>): Promise<T> {
  let ending: Promise<never> | null = null;
  const handlers = ENDING.map(([signal, code]) => [signal, () => void (ending ??= undo().finally(() => process.exit(code)) as Promise<never>)] as const);
  for (const [signal, h] of handlers) process.once(signal, h);
  try {
    return await work();
  } catch (err) {
    // The child the signal ended may be seen to exit before gw sees the signal itself.
    await Bun.sleep(SIGNAL_LAG_MS);
    throw err;
  } finally {
    for (const [signal, h] of handlers) process.off(signal, h);
    if (ending) await ending;
  }
}
