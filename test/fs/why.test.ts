// When gw calls a disk full (fs/why.ts): statfs's numbers as the writer sees them.
import { expect, test } from "bun:test";
import { noRoomBy } from "../../src/fs/why.ts";

test("root may write into the blocks kept for it (ext4 keeps 5 %): a disk full for users is not full for root", () => {
  const nearlyFull = { blocks: 1000, bfree: 50, bavail: 0 };
  expect(noRoomBy(nearlyFull, false)).toBe(true);
  expect(noRoomBy(nearlyFull, true)).toBe(false);
  expect(noRoomBy({ blocks: 1000, bfree: 0, bavail: 0 }, true)).toBe(true);
  expect(noRoomBy({ blocks: 1000, bfree: 1, bavail: 1 }, false)).toBe(false);
});

test("a file system that reports no sizes at all (some FUSE and network ones) cannot tell, so it is not called full", () => {
  expect(noRoomBy({ blocks: 0, bfree: 0, bavail: 0 }, false)).toBe(false);
  expect(noRoomBy({ blocks: 0, bfree: 0, bavail: 0 }, true)).toBe(false);
});
