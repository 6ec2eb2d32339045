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
