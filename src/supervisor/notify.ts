// systemd's notify protocol (Type=notify): "READY=1" once gw serves, "STOPPING=1" when it stops,
// and "MAINPID=" when an upgrade's successor takes over — so systemd follows gw to its new
// process instead of taking the old one's exit for the service's end. Sent from gw's own
// process (systemd-notify, a short-lived helper, can exit before systemd has seen who sent it).
import { AF_UNIX, libc, MSG_NOSIGNAL, ptr, SOCK_CLOEXEC, SOCK_DGRAM } from "../sys/libc.ts";

export const NOTIFY_ENV = "NOTIFY_SOCKET";

/** struct sockaddr_un for a path, or an abstract name ("@name"); null when it cannot hold it. */
export function unixAddress(path: string): Uint8Array | null {
  const name = new TextEncoder().encode(path.startsWith("@") ? `\0${path.slice(1)}` : path);
  if (name.length === 0 || name.length > 107) return null;
  const addr = new Uint8Array(2 + name.length + (path.startsWith("@") ? 0 : 1));
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(name, 2);
  return addr;
}

/** Tell systemd `state` (e.g. "READY=1"); false when not under systemd or it could not be sent. */
export function sdNotify(state: string, env: Record<string, string | undefined> = process.env): boolean {
  const socket = env[NOTIFY_ENV];
  const c = socket ? libc() : null;
  const addr = socket ? unixAddress(socket) : null;
  if (!c || !addr) return false;
  const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  try {
    const msg = new TextEncoder().encode(state);
    return Number(c.sendto(fd, ptr(msg), msg.length, MSG_NOSIGNAL, ptr(addr), addr.length)) === msg.length;
  } finally {
    c.close(fd);
  }
}
