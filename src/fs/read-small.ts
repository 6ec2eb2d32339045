// Reading a file someone else's folder holds (an old setup's ecosystem.config.js, a YAML its
// apps name, a credential file): a FIFO blocks the open and the read for ever and a device like
// /dev/zero never ends, so only a regular file of bounded size is read. The open itself does not
// block (O_NONBLOCK) and the check is made on what was opened, so nothing can be swapped in
// between. Links are followed: the file is only read, never written.
import { closeSync, constants as C, fstatSync, openSync, readSync } from "node:fs";

type SmallFile = { readonly bytes: Uint8Array } | { readonly why: string };

/** The whys a caller may tell apart. */
export const DOES_NOT_EXIST = "does not exist";
export const IS_DIRECTORY = "is a directory, not a file";
export const PERMISSION_DENIED = "cannot be read: permission denied";
export const NOT_REGULAR = "is not a regular file";

/**
 * The file's bytes, or why they were not read, said of the file: "is not a regular file", "is over
 * 1 MiB", "does not exist"… With `pipe`, a pipe is read to its end too (up to maxBytes): for a path
 * the user typed that names a descriptor of their shell's (isDescriptorPath), never one a folder holds.
 */
export function readSmallFile(path: string, maxBytes: number, opts: { readonly pipe?: boolean } = {}): SmallFile {
  let fd: number;
  try {
    // A terminal device opened here must not become gw's. A pipe the user handed over is waited
    // on (its writer is their command), so it is opened blocking.
    fd = openSync(path, C.O_RDONLY | C.O_NOCTTY | (opts.pipe ? 0 : C.O_NONBLOCK));
  } catch (err) {
    return { why: whyNot(err) };
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) return { why: IS_DIRECTORY };
    if (opts.pipe && st.isFIFO()) return readToEnd(fd, maxBytes);
    if (!st.isFile()) return { why: NOT_REGULAR };
    if (st.size > maxBytes) return { why: `is over ${sizeWords(maxBytes)}` };
    const buf = new Uint8Array(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break; // it shrank while being read: what is there
      got += n;
    }
    return { bytes: buf.subarray(0, got) };
  } catch (err) {
    return { why: whyNot(err) };
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether a path names one of this process's descriptors, as a shell's process substitution
 * (`-c <(…)`: /dev/fd/63 from bash, /proc/self/fd/N from zsh) or /dev/stdin does. No folder can
 * hold such a path itself; only a link to one, which is named by the link's own path.
 */
export const isDescriptorPath = (path: string): boolean => /^\/(dev\/fd|proc\/self\/fd)\/\d+$|^\/dev\/stdin$/.test(path);

// --- internal ---

/** A pipe's bytes until its writer closes it, or that they are more than `maxBytes`. */
function readToEnd(fd: number, maxBytes: number): SmallFile {
  const buf = new Uint8Array(maxBytes + 1);
  let got = 0;
  for (let n = -1; n !== 0 && got < buf.length; got += n) n = readSync(fd, buf, got, buf.length - got, null);
  return got > maxBytes ? { why: `is over ${sizeWords(maxBytes)}` } : { bytes: buf.subarray(0, got) };
}

function whyNot(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === "ENOENT" || code === "ENOTDIR") return DOES_NOT_EXIST;
  if (code === "EACCES" || code === "EPERM") return PERMISSION_DENIED;
  if (code === "EISDIR") return IS_DIRECTORY;
  return `cannot be read (${code ?? String(err)})`;
}

function sizeWords(bytes: number): string {
  return bytes % (1 << 20) === 0 ? `${bytes >> 20} MiB` : `${bytes} bytes`;
}

/** Far more than a providers.toml or any file gw writes for itself holds. */
const SMALL_TEXT_MAX_BYTES = 16 << 20;

/**
 * A small regular file's text, or undefined when there is none to read. For files a caller takes
 * as missing when they cannot be read — gw's own beside a config (.gw/keys.json, its pid files,
 * instances/*.yaml), which it then writes anew by a rename that replaces whatever is there, never
 * writing through it: a cloned folder may carry a FIFO or a link to /dev/zero under such a name.
 */
export function readSmallText(path: string): string | undefined {
  const read = readSmallFile(path, SMALL_TEXT_MAX_BYTES);
  return "bytes" in read ? new TextDecoder().decode(read.bytes) : undefined;
}
