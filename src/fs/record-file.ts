// A small record gw keeps on disk while it runs (its pid file, its registry entry): written whole
// and private, synchronously — it is tiny, and a retry that a status ask makes (fs/rewrite.ts) must
// be done before the answer. A write the file system refuses (a full disk) is no error: gw goes on
// without the file, and `problem()` says why in one line (fs/why.ts writeProblem) until it is written.
import { writePrivateFileSync } from "./atomic-write.ts";
import { fsWhy, writeProblem } from "./why.ts";

export interface RecordFile {
  readonly file: string;
  /** Write it; true once written. An error that is no file-system error gw knows (a bug) is thrown. */
  write(): boolean;
  /** Why the last write failed, as one line; undefined once written. */
  problem(): string | undefined;
}

export function recordFile(file: string, text: string): RecordFile {
  let problem: string | undefined;
  return {
    file,
    write() {
      try {
        writePrivateFileSync(file, text);
      } catch (e) {
        if (fsWhy(e) === undefined) throw e;
        problem = writeProblem(file, e);
        return false;
      }
      problem = undefined;
      return true;
    },
    problem: () => problem,
  };
}
