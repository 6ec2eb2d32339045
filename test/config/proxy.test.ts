// `proxy` ([global] and per instance) is checked as a proxy URL: text that is none used to go into
// every instance's YAML as proxy-url. Its password never shows in the message.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runGw, tempFiles } from "../helpers/tmp.ts";

const toml = (global: string, instance: string) => `[global]\nmain_port = 8145\nproxy = "${global}"\n[instances.a]\nport = 8146\nproxy = "${instance}"\nproviders = [{ type = "antigravity" }]\n`;

describe("proxy", () => {
  test("text that is no proxy URL is an error at its place, the password masked; gen writes nothing", async () => {
    const dir = tempFiles({ "providers.toml": toml("not a url at all", "ftp://user:s3cretpassword@proxy:2121") });
    const r = await runGw(["gen", "-c", join(dir, "providers.toml")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('providers.toml:3:1  global.proxy  error: proxy "not a url at all": it is not a URL  (write it with its scheme, e.g. proxy = "http://127.0.0.1:3128" or "socks5://127.0.0.1:1080"');
    expect(r.stderr).toContain('providers.toml:6:1  instances.a.proxy  error: proxy "ftp://proxy:2121/": its scheme is not one a proxy URL has (http, https, socks5, socks5h)');
    expect(r.stderr).not.toContain("s3cret");
    expect(existsSync(join(dir, "instances"))).toBe(false);
  });

  test("http, https, socks5 and socks5h proxies (with a user) pass and reach the YAML", async () => {
    for (const [g, i] of [["http://127.0.0.1:3128", "socks5h://user:pass@127.0.0.1:1080"], ["", "https://proxy.example:443"], ["socks5://127.0.0.1:1080", "socks5://127.0.0.1:1081"]]) {
      const dir = tempFiles({ "providers.toml": toml(g!, i!) });
      const r = await runGw(["gen", "-c", join(dir, "providers.toml")]);
      expect([i, r.code, r.stderr.includes("proxy")]).toEqual([i, 0, false]);
      const yaml = readFileSync(join(dir, "instances", "a.yaml"), "utf8");
      expect(yaml).toContain(`proxy-url: ${i}`);
    }
  });
});
