// Read an executable's headers: ELF or Mach-O, which CPU, and (ELF) which dynamic loader.
// Enough to tell every release target apart except x64 from x64-baseline (same headers; the
// release check runs both and reads the target each reports).
import { type BinaryShape, hostTarget, RELEASE_TARGETS, SHAPES } from "./targets.ts";

const ELF_MACHINES: Record<number, BinaryShape["arch"]> = { 0x3e: "x86-64", 0xb7: "arm64" };
const MACHO_CPUS: Record<number, BinaryShape["arch"]> = { 0x01000007: "x86-64", 0x0100000c: "arm64" };

type Inspected = BinaryShape | { readonly error: string };

export function inspectBinary(bytes: Uint8Array): Inspected {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 64) return { error: "too short for an executable" };
  if (dv.getUint32(0, false) === 0x7f454c46) return inspectElf(bytes, dv);
  if (dv.getUint32(0, true) === 0xfeedfacf) {
    const arch = MACHO_CPUS[dv.getUint32(4, true)];
    return arch ? { format: "Mach-O", arch } : { error: `Mach-O for an unknown CPU type 0x${dv.getUint32(4, true).toString(16)}` };
  }
  return { error: "neither ELF nor 64-bit Mach-O" };
}

function inspectElf(bytes: Uint8Array, dv: DataView): Inspected {
  if (bytes[4] !== 2 || bytes[5] !== 1) return { error: "ELF but not 64-bit little-endian" };
  const machine = dv.getUint16(18, true);
  const arch = ELF_MACHINES[machine];
  if (!arch) return { error: `ELF for an unknown machine 0x${machine.toString(16)}` };
  // Program headers: find PT_INTERP (3), whose segment is the loader's path.
  const phoff = Number(dv.getBigUint64(32, true));
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 56 > bytes.length) break;
    if (dv.getUint32(at, true) !== 3) continue;
    const off = Number(dv.getBigUint64(at + 8, true));
    const size = Number(dv.getBigUint64(at + 32, true));
    const path = new TextDecoder().decode(bytes.subarray(off, off + size)).replace(/\0+$/, "");
    return { format: "ELF", arch, interpreter: path };
  }
  return { format: "ELF", arch };
}

/** Only the first bytes are needed (headers and the loader path sit near the start). */
export async function inspectFile(file: string): Promise<Inspected> {
  return inspectBinary(new Uint8Array(await Bun.file(file).slice(0, 64 * 1024).arrayBuffer()));
}

/** "" when the shape matches, else what differs. */
export function shapeMismatch(got: Inspected, want: BinaryShape): string {
  if ("error" in got) return got.error;
  const diffs: string[] = [];
  if (got.format !== want.format) diffs.push(`format ${got.format}, want ${want.format}`);
  if (got.arch !== want.arch) diffs.push(`architecture ${got.arch}, want ${want.arch}`);
  if (want.interpreter && got.interpreter !== want.interpreter) diffs.push(`loader ${got.interpreter ?? "none"}, want ${want.interpreter}`);
  return diffs.join("; ");
}

/**
 * Why an executable cannot run on this machine, from its headers: what it was built for and
 * what this host needs ("" when its headers fit this host, or cannot tell).
 */
export async function foreignBinary(file: string): Promise<string> {
  const got = await inspectFile(file).catch(() => null);
  if (!got) return "";
  if ("error" in got) return `${got.error}: not a gw binary`;
  const host = hostTarget();
  if (host && shapeMismatch(got, SHAPES[host]) === "") return "";
  const builtFor = RELEASE_TARGETS.filter((t) => shapeMismatch(got, SHAPES[t]) === "");
  const what = builtFor.length ? `gw for ${builtFor.join(" or ")}` : `${got.format} for ${got.arch}${"interpreter" in got && got.interpreter ? `, loader ${got.interpreter}` : ""}`;
  return `it is ${what}${host ? `; this host needs ${host}` : ""}`;
}
