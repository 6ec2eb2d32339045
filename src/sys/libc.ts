// The few libc calls gw needs that Bun does not offer: a socket option on the LB's listening
// socket (reuseport.ts), a datagram to systemd's notify socket (notify.ts) and a thread's
// scheduling policy (lb/fetch-thread.ts, through `syscall`: musl has no sched_setscheduler). Linux only; the
// library is opened on first use. musl's loader answers "libc.so.6" with itself, so one name
// serves glibc and musl builds alike.
import { dlopen, FFIType, ptr } from "bun:ffi";

const symbols = {
  setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  sendto: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i64 },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  syscall: { args: [FFIType.i64, FFIType.i64, FFIType.i64, FFIType.ptr], returns: FFIType.i32 },
} as const;

type Libc = ReturnType<typeof dlopen<typeof symbols>>["symbols"];
let lib: Libc | null | undefined;

/** libc, or null where it cannot be opened (not Linux, or FFI unavailable). */
export function libc(): Libc | null {
  if (lib !== undefined) return lib;
  try {
    lib = process.platform === "linux" ? dlopen("libc.so.6", symbols).symbols : null;
  } catch {
    lib = null;
  }
  return lib;
}

export const SOL_SOCKET = 1;
export const SO_ATTACH_REUSEPORT_CBPF = 51;
export const AF_UNIX = 1;
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = 0o2000000;
export const MSG_NOSIGNAL = 0x4000;
/** sched_setscheduler's system call number, by architecture (none where gw is not built). */
export const SYS_SCHED_SETSCHEDULER: number | undefined = ({ x64: 144, arm64: 119 } as Record<string, number>)[process.arch];
export const SCHED_BATCH = 3;

export { ptr };
