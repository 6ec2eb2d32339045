// Error bodies as gw reads them (to classify) and gives them on (to the client, the record): read
// strictly whole, their exact bytes may pass; else only text gw read and masked does — however
// the body is cut, whatever follows its data, however large it decodes.
import { describe, expect, test } from "bun:test";
import * as zlib from "node:zlib";
import { classifyOutcome } from "../../src/lb/classify.ts";
import { readErrorBody, scrubbedError } from "../../src/lb/error-body.ts";
import { createMasker, maskedHead } from "../../src/observe/mask.ts";
import { LB_DEFAULTS } from "../helpers/policy.ts";

const KEY = "gw-instance-key-7f3a9c2e5b1d4f60";
const masker = createMasker([KEY]);
const json = '{"error":{"message":"auth_unavailable: no auth","type":"server_error","details":[{"reason":"X"}]}}';
const read = (bytes: Uint8Array, coding: string | null, complete = true) => readErrorBody(bytes, complete, coding, masker.pieces);
/** What the client gets: the exact bytes, or the text scrubbedError makes. */
const delivered = (bytes: Uint8Array, e: Awaited<ReturnType<typeof read>>) => scrubbedError(e.errorText, e.read, 401, "anthropic", masker.text) ?? new TextDecoder().decode(bytes);

describe("read strictly whole", () => {
  test.each([
    ["gzip", zlib.gzipSync(json)],
    ["br", zlib.brotliCompressSync(json)],
    ["deflate", zlib.deflateSync(json)],
    ["deflate", zlib.deflateRawSync(json)],
    ["zstd", zlib.zstdCompressSync(json)],
    ["deflate, gzip", zlib.gzipSync(zlib.deflateSync(json))],
    ["", Buffer.from(json)],
  ])("decodes %s", async (enc, bytes) => {
    expect(await read(new Uint8Array(bytes), enc)).toEqual({ text: json, errorText: json });
  });

  test("a compressed 503 auth_unavailable classifies as auth", async () => {
    const { text } = await read(zlib.gzipSync(json), "gzip");
    expect(classifyOutcome({ status: 503, bodyText: text }, LB_DEFAULTS.cooldownsMs).class).toBe("auth");
  });
});

describe("read as far as it goes", () => {
  const quoting = `{"error":{"type":"authentication_error","message":"Incorrect API key provided: ${KEY}"}}`;

  test("every cut of a gzip error quoting the key: the client and the record see none of it; a cut in the trailer, or bytes after it, read as the whole error", async () => {
    const gz = zlib.gzipSync(quoting);
    const kinds = new Set<string | undefined>();
    for (let cut = 1; cut <= gz.length; cut++) {
      const bytes = gz.subarray(0, cut);
      const e = await read(bytes, "gzip");
      kinds.add(e.read);
      expect({ cut, client: delivered(bytes, e).includes(KEY.slice(0, 8)) }).toEqual({ cut, client: false });
      expect({ cut, record: maskedHead(masker, e.errorText, 500).includes(KEY.slice(0, 8)) }).toEqual({ cut, record: false });
      if (cut >= gz.length - 8) expect({ cut, read: e.read, text: e.text }).toEqual({ cut, read: cut === gz.length ? undefined : "decoded", text: quoting });
    }
    expect([...kinds].sort()).toEqual(["cut", "decoded", undefined]);
    const junk = await read(Buffer.concat([gz, Buffer.from("junk")]), "gzip");
    expect(junk).toEqual({ text: quoting, errorText: quoting, read: "decoded" });
  });

  test("a body that broke inside the key, not compressed: what is quoted stops before the key begins", async () => {
    const bytes = new TextEncoder().encode(`{"error":{"message":"Incorrect API key provided: ${KEY.slice(0, 20)}`);
    const e = await read(bytes, null, false);
    expect(e.read).toBe("cut");
    expect(e.errorText).toStartWith("upstream error, read only in part (its data cut short or bad): {");
    expect(e.errorText).not.toContain(KEY.slice(0, 4));
  });

  test("a bomb is read to 1 MiB and quoted; data no decoder takes, or a coding gw does not know, is said as such", async () => {
    const bomb = await read(zlib.gzipSync(Buffer.alloc(4 << 20, 97)), "gzip");
    expect(bomb.read).toBe("cut");
    expect(bomb.errorText).toBe(`upstream error, read only in part (Content-Encoding gzip, longer than 1 MiB): ${"a".repeat(1000)}`);
    expect(bomb.text).toHaveLength(4096);
    expect(await read(new TextEncoder().encode("not gzip"), "gzip")).toEqual({ text: "", errorText: "upstream error gw could not read (Content-Encoding gzip, its data cut short or bad)", read: "cut" });
    expect((await read(new TextEncoder().encode("lzw?"), "compress")).errorText).toBe("upstream error gw could not read (Content-Encoding compress, a coding gw cannot decode)");
  });

  test("what the client gets of a cut body is gw's error in its dialect; of a body decoded as far as it goes, the masked text", () => {
    expect(JSON.parse(scrubbedError("upstream error gw could not read (x)", "cut", 401, "openai", masker.text)!)).toEqual({ error: { message: "upstream error gw could not read (x)", type: "authentication_error", code: "upstream_error_unreadable" } });
    expect(scrubbedError(quoting, "decoded", 401, "anthropic", masker.text)).toBe(quoting.replace(KEY, "gw-ins…4f60"));
    expect(scrubbedError(json, "decoded", 401, "anthropic", masker.text)).toBe(json); // decoded text even with nothing to mask
    expect(scrubbedError(json, undefined, 401, "anthropic", masker.text)).toBeUndefined(); // the exact bytes
  });
});
