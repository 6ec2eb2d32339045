// systemd's notify protocol, against a real datagram socket (bound here through libc, as
// systemd binds its own): gw's READY/MAINPID messages arrive whole, at a path or an abstract name.
import { afterAll, describe, expect, test } from "bun:test";
import { dlopen, FFIType, ptr } from "bun:ffi";
import { join } from "node:path";
import { sdNotify, unixAddress } from "../../src/supervisor/notify.ts";
import { AF_UNIX, SOCK_CLOEXEC, SOCK_DGRAM } from "../../src/sys/libc.ts";
import { tempDir } from "../helpers/tmp.ts";

const MSG_DONTWAIT = 0x40;
const c = dlopen("libc.so.6", {
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  recv: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64 },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
}).symbols;
const open: number[] = [];
afterAll(() => open.forEach((fd) => c.close(fd)));

/** A bound datagram socket standing in for systemd's; returns a reader of what arrived. */
function listen(address: string): () => string | null {
  const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  open.push(fd);
  const addr = unixAddress(address)!;
  expect(c.bind(fd, ptr(addr), addr.length)).toBe(0);
  return () => {
    const buf = new Uint8Array(4096);
    const n = Number(c.recv(fd, ptr(buf), buf.length, MSG_DONTWAIT));
    return n > 0 ? new TextDecoder().decode(buf.subarray(0, n)) : null;
  };
}

describe("sdNotify", () => {
  test("a message reaches the socket named by NOTIFY_SOCKET (a path)", () => {
    const path = join(tempDir(), "notify.sock");
    const read = listen(path);
    expect(sdNotify(`READY=1\nMAINPID=${process.pid}`, { NOTIFY_SOCKET: path })).toBe(true);
    expect(read()).toBe(`READY=1\nMAINPID=${process.pid}`);
  });
  test("an abstract socket (@name) works too", () => {
    const name = `@gw-notify-test-${process.pid}-${Date.now()}`;
    const read = listen(name);
    expect(sdNotify("STOPPING=1", { NOTIFY_SOCKET: name })).toBe(true);
    expect(read()).toBe("STOPPING=1");
  });
  test("without NOTIFY_SOCKET, or with a socket nobody listens on, nothing is sent", () => {
    expect(sdNotify("READY=1", {})).toBe(false);
    expect(sdNotify("READY=1", { NOTIFY_SOCKET: join(tempDir(), "nobody.sock") })).toBe(false);
  });
});
