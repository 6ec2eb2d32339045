// Sharing the LB's port during an upgrade. Every gw listens with SO_REUSEPORT, so a successor
// can bind the same port while the old gw still serves; the guard in run.ts makes sure no one
// else does. Linux spreads new connections over all sockets of the port and resets those still
// queued on a socket that closes — so the successor steers every new connection to itself (a
// one-instruction classic BPF program on the port's socket group) before the old gw drains and
// closes: nothing is queued there any more, and no connection is refused or reset.
import { libc, ptr, SO_ATTACH_REUSEPORT_CBPF, SOL_SOCKET } from "../sys/libc.ts";
import { listeningInodes, socketFds } from "./proc.ts";

/**
 * Sockets of other processes listening on `port` at the very address this process listens on
 * (Linux; 0 where /proc cannot tell). With SO_REUSEPORT a second listener binds silently, so
 * this is how gw notices one.
 */
export async function foreignListeners(port: number): Promise<number> {
  if (process.platform !== "linux") return 0;
  const inodes = await listeningInodes(port);
  const own = await socketFds("self", inodes);
  const ownAddrs = new Set([...own.keys()].map((i) => inodes.get(i)));
  return [...inodes].filter(([inode, addr]) => !own.has(inode) && ownAddrs.has(addr)).length;
}

/**
 * Send every new connection on `port` to this process's listening socket(s). The group's
 * sockets are indexed in the order they joined; the successor joined last, after exactly one
 * (the old gw), so its index is 1. Once the old socket closes the program's index is out of
 * range and Linux falls back to its normal spreading. Returns false where it cannot be done
 * (not Linux, no FFI): the hand-over still works, with a small chance of resetting connections
 * queued on the old socket at the moment it closes.
 */
export async function steerNewConnectionsHere(port: number): Promise<boolean> {
  const c = libc();
  if (!c) return false;
  const fds = await socketFds("self", await listeningInodes(port));
  if (fds.size === 0) return false;
  // struct sock_filter { u16 code; u8 jt, jf; u32 k } = { BPF_RET | BPF_K, 0, 0, 1 }
  const filter = new Uint8Array(8);
  new DataView(filter.buffer).setUint16(0, 0x06, true);
  new DataView(filter.buffer).setUint32(4, 1, true);
  // struct sock_fprog { u16 len; (pad); struct sock_filter *filter }
  const prog = new Uint8Array(16);
  new DataView(prog.buffer).setUint16(0, 1, true);
  new DataView(prog.buffer).setBigUint64(8, BigInt(ptr(filter)), true);
  let ok = true;
  for (const fd of fds.values()) ok = c.setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, ptr(prog), prog.length) === 0 && ok;
  return ok;
}
