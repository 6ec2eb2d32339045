// Is a zstd body whole? node:zlib's zstd decoder (in Bun 1.4, as in Node: nodejs/node#64592,
// oven-sh/bun#33413) ends a frame cut short without an error and hands back what it decoded so far
// — often nothing — where gzip, deflate and brotli report "unexpected end of file". Bun.zstdDecompress
// does notice, but cannot bound its output (a bomb). The frames' own structure (RFC 8878 §3.1)
// says where each ends without decoding anything: a frame is a header, blocks whose 3-byte headers
// give their sizes, the last one flagged Last_Block, then a checksum when the header promises one.
// Walking it reads three bytes per block (a block holds up to 128 KiB).

const FRAME_MAGIC = 0xfd2fb528;
/** Skippable frames (§3.1.2): magic 0x184D2A50–0x184D2A5F, a 4-byte size, that many bytes. */
const SKIPPABLE_MAGIC = 0x184d2a50;
const DICT_ID_BYTES = [0, 1, 2, 4] as const;

/** True when `b` is one or more complete zstd frames and nothing else. */
export function wholeZstdFrames(b: Uint8Array): boolean {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = 0;
  do {
    if (at + 4 > b.length) return false;
    const magic = v.getUint32(at, true);
    at += 4;
    if ((magic & 0xfffffff0) === SKIPPABLE_MAGIC) {
      if (at + 4 > b.length) return false;
      at += 4 + v.getUint32(at, true);
      continue;
    }
    if (magic !== FRAME_MAGIC || at >= b.length) return false;
    // Frame_Header_Descriptor (§3.1.1.1.1): sizes of the header fields that follow it.
    const fhd = b[at++]!;
    const singleSegment = (fhd >> 5) & 1;
    const contentSizeBytes = [singleSegment, 2, 4, 8][fhd >> 6]!;
    at += (singleSegment ? 0 : 1) + DICT_ID_BYTES[fhd & 3]! + contentSizeBytes;
    // Blocks (§3.1.1.2): Last_Block bit, Block_Type (raw, RLE: one byte, compressed, reserved), Block_Size.
    for (let last = false; !last; ) {
      if (at + 3 > b.length) return false;
      const header = b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16);
      at += 3;
      last = (header & 1) === 1;
      const type = (header >> 1) & 3;
      if (type === 3) return false;
      at += type === 1 ? 1 : header >>> 3;
      if (at > b.length) return false;
    }
    if ((fhd >> 2) & 1) at += 4; // Content_Checksum
  } while (at < b.length);
  return at === b.length;
}
