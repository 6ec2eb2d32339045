// [global] host: what no machine can listen on is refused by check with its place and a fix; an
// address this machine lacks (only gw up can tell) is blamed on host, not on main_port.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { freePorts } from "../helpers/ports.ts";
import { runGw, tempFiles } from "../helpers/tmp.ts";

const toml = (host: string, port = 8145, instancePort = 8146) =>
  `[global]\nmain_port = ${port}\nhost = "${host}"\napi_keys = ["abcdefghijklmnopqrstuv"]\n[instances.a]\nurl = "http://127.0.0.1:${instancePort}"\napi_key = "abcdefghijklmnop"\nproviders = [{ type = "antigravity" }]\n`;

describe("[global] host", () => {
  test("a host no machine can listen on is an error at its line; addresses and names pass", async () => {
    for (const bad of ["bad host!", "999.1.1.1", "http://gw.example.com", "a..b"]) {
      const dir = tempFiles({ "providers.toml": toml(bad) });
      const r = await runGw(["check", "-c", join(dir, "providers.toml")]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`providers.toml:3:1  global.host  error: host "${bad}" is no address or host name gw can listen on  (write an address of this machine or a host name alone`);
    }
    for (const good of ["0.0.0.0", "::", "[::1]", "fd00::2", "10.1.2.3", "gw.example.com", "localhost", "my_host"]) {
      const dir = tempFiles({ "providers.toml": toml(good) });
      const r = await runGw(["check", "-c", join(dir, "providers.toml")]);
      expect([good, r.stderr.includes("global.host")]).toEqual([good, false]);
    }
  });

  test("gw up on an address this machine does not have names host, not main_port", async () => {
    const [port, instancePort] = await freePorts(2);
    // 192.0.2.1: TEST-NET-1, on no machine's interfaces.
    const dir = tempFiles({ "providers.toml": toml("192.0.2.1", port, instancePort) });
    const env = { XDG_CACHE_HOME: join(dir, "cache"), XDG_DATA_HOME: join(dir, "data"), XDG_RUNTIME_DIR: join(dir, "run"), GW_CONFIG: undefined };
    const r = await runGw(["up", "-c", join(dir, "providers.toml")], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the load balancer could not listen on 192.0.2.1:${port} (EADDRNOTAVAIL: address not available) — change [global] host to an address this machine has`);
    expect(r.stderr).not.toContain("change [global] main_port");
  });
});
