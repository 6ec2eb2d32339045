// Which machine the request log names (pure): the socket's peer, or the client a reverse proxy on
// this machine names — never a header from a peer elsewhere, which anyone may write.
import { describe, expect, test } from "bun:test";
import { clientAddress } from "../../src/lb/client-address.ts";

const h = (init: Record<string, string> = {}) => new Headers(init);

describe("clientAddress", () => {
  test("a peer elsewhere is the client, whatever it writes in forwarding headers", () => {
    expect(clientAddress("10.0.0.7", h({ "x-forwarded-for": "203.0.113.9", forwarded: "for=198.51.100.1", "x-real-ip": "192.0.2.1" }))).toBe("10.0.0.7");
    expect(clientAddress("::ffff:10.0.0.7", h())).toBe("10.0.0.7"); // IPv4 on a dual-stack listener, written as IPv4
    expect(clientAddress("2001:db8::5", h())).toBe("2001:db8::5");
  });

  test("a loopback peer with no forwarding header is this machine", () => {
    expect(clientAddress("127.0.0.1", h())).toBe("127.0.0.1");
    expect(clientAddress("::1", h())).toBe("::1");
    expect(clientAddress(undefined, h({ "x-forwarded-for": "203.0.113.9" }))).toBeUndefined(); // no socket address: nothing to trust
  });

  test("a proxy on loopback: its own X-Forwarded-For entry (the last; what the client sent comes before it)", () => {
    expect(clientAddress("127.0.0.1", h({ "x-forwarded-for": "203.0.113.9, 10.0.0.7" }))).toBe("10.0.0.7");
    expect(clientAddress("::ffff:127.0.0.1", h({ "x-forwarded-for": "10.0.0.7" }))).toBe("10.0.0.7");
    expect(clientAddress("127.0.0.1", h({ "x-forwarded-for": "::ffff:10.0.0.7" }))).toBe("10.0.0.7");
  });

  test("else Forwarded's last for= (quoted, bracketed IPv6, with a port), else X-Real-IP", () => {
    expect(clientAddress("127.0.0.1", h({ forwarded: 'for=203.0.113.9;proto=https, for="[2001:db8:cafe::17]:4711"' }))).toBe("2001:db8:cafe::17");
    expect(clientAddress("127.0.0.1", h({ forwarded: "proto=https;for=10.0.0.7:5555;by=127.0.0.1" }))).toBe("10.0.0.7");
    expect(clientAddress("127.0.0.1", h({ "x-real-ip": "10.0.0.8" }))).toBe("10.0.0.8");
  });

  test("a header that names no address leaves the peer: no made-up or oversized text reaches the log", () => {
    expect(clientAddress("127.0.0.1", h({ forwarded: "for=unknown" }))).toBe("127.0.0.1");
    expect(clientAddress("127.0.0.1", h({ forwarded: "for=_hidden" }))).toBe("127.0.0.1");
    expect(clientAddress("127.0.0.1", h({ "x-forwarded-for": `10.0.0.7, <script>${"x".repeat(500)}` }))).toBe("127.0.0.1");
    expect(clientAddress("127.0.0.1", h({ "x-real-ip": "sk-ant-secret-0123456789" }))).toBe("127.0.0.1");
  });
});
