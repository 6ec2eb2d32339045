// A file a full disk refused, tried again (fs/rewrite.ts): by its timer while nobody asks, at once
// when asked with room on its disk, never while idle; done once written. The real full disk is
// test/supervisor/full-disk.test.ts and test/state/full-disk.test.ts.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { rewriteUntilDone } from "../../src/fs/rewrite.ts";
import { tempDir } from "../helpers/tmp.ts";

/** A write refused `refusals` times (a throw for "throw"), then done; `tries` counts the calls. */
function refusedFile(refusals: ("false" | "throw")[]) {
  const file = join(tempDir("gw-rewrite-"), "gw.pid");
  const state = { tries: 0, written: 0 };
  const write = () => {
    const refusal = refusals[state.tries++];
    if (refusal === "throw") throw new Error("not a file-system error");
    return refusal === undefined;
  };
  return { file, state, write };
}

describe("a refused file, written again", () => {
  test("nobody asks: the timer tries until it is written, says so once, and tries no more", async () => {
    const f = refusedFile(["false", "throw", "false"]);
    const written = Promise.withResolvers<void>();
    const r = rewriteUntilDone({ write: f.write, file: f.file, everyMs: 5, written: () => (f.state.written++, written.resolve()) });
    await written.promise;
    expect(f.state).toEqual({ tries: 4, written: 1 });
    r.ask(); // done: an ask tries nothing
    expect(f.state).toEqual({ tries: 4, written: 1 });
  });

  test("asked with room on its disk: tried at once, before the answer", () => {
    const f = refusedFile(["false"]);
    const r = rewriteUntilDone({ write: f.write, file: f.file, written: () => f.state.written++ });
    r.ask();
    expect(f.state).toEqual({ tries: 1, written: 0 }); // refused again: still due
    r.ask();
    expect(f.state).toEqual({ tries: 2, written: 1 });
    r.stop();
  });

  test("idle (gw stops or hands over), or stopped: an ask tries nothing", () => {
    const f = refusedFile([]);
    let idle = true;
    const r = rewriteUntilDone({ write: f.write, file: f.file, idle: () => idle });
    r.ask();
    expect(f.state.tries).toBe(0);
    r.stop();
    idle = false;
    r.ask();
    expect(f.state.tries).toBe(0);
  });
});
