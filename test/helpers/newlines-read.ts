// What a client has read of keep-alive newlines, for upstreams that write their next newline only
// once the client has read the one before (gw passed it on): gw then gets each in a read of its
// own, as from CLIProxyAPI's ticks — a loaded machine otherwise hands gw several at once, and gw
// learns no pace from them.

/** The client's count of newlines read so far (`saw`), and a wait until it has read `n` (`reached`). */
export function newlinesRead() {
  let seen = 0;
  const waits: { n: number; resolve: () => void }[] = [];
  return {
    saw(n: number): void {
      seen = n;
      for (const w of waits.splice(0)) (w.n <= seen ? w.resolve : () => waits.push(w))();
    },
    reached: (n: number): Promise<void> => (n <= seen ? Promise.resolve() : new Promise((resolve) => waits.push({ n, resolve }))),
  };
}
