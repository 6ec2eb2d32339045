// providers.toml files the user confirmed for cld, by path and fingerprint. A checkout's own
// providers.toml is only used once the user said yes to that very content: a changed file (or
// a changed .env beside it, which can fill in ${VAR}s such as the host) asks again.
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { writePrivateFile } from "../fs/atomic-write.ts";
import { DOES_NOT_EXIST, readSmallFile } from "../fs/read-small.ts";

type Confirmation = "confirmed" | "changed" | "new";

/**
 * sha256 of the file and the .env beside it. A checkout may put a FIFO or a link to /dev/zero
 * there: such a file counts by why it was not read, never waited on or read without end.
 */
export async function fingerprint(file: string): Promise<string> {
  const h = new Bun.CryptoHasher("sha256"); // not node:crypto: loading it cost ~5 ms of each cld and TAB
  for (const [label, path] of [["", file], ["\0.env\0", join(dirname(file), ".env")]] as const) {
    const read = readSmallFile(path, MAX_FINGERPRINTED_BYTES);
    h.update(label);
    h.update("bytes" in read ? read.bytes : read.why === DOES_NOT_EXIST ? "(none)" : `(${read.why})`);
  }
  return h.digest("hex");
}
const MAX_FINGERPRINTED_BYTES = 16 << 20;

const storeFile = (cacheDir: string) => join(cacheDir, "confirmed.json");

async function readStore(cacheDir: string): Promise<Map<string, string>> {
  try {
    const o: unknown = JSON.parse(await readFile(storeFile(cacheDir), "utf8"));
    return new Map(Object.entries(o && typeof o === "object" ? o : {}).filter((e): e is [string, string] => typeof e[1] === "string"));
  } catch {
    return new Map();
  }
}

export async function confirmation(cacheDir: string, file: string, print: string): Promise<Confirmation> {
  const known = (await readStore(cacheDir)).get(file);
  return known === undefined ? "new" : known === print ? "confirmed" : "changed";
}

export async function rememberConfirmed(cacheDir: string, file: string, print: string): Promise<void> {
  const store = await readStore(cacheDir);
  store.set(file, print);
  await writePrivateFile(storeFile(cacheDir), `${JSON.stringify(Object.fromEntries(store), null, 2)}\n`);
}
