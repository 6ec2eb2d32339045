// Route params that go out as headers, and keys that do: what no header can carry is refused when
// the file is read, at its place, instead of failing every request on the route with a 500.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { runGw, tempFiles } from "../helpers/tmp.ts";

const toml = (params: string, keys = '"${K}"') => `[global]\nmain_port = 8145\n[instances.a]\nport = 8146\nproviders = [{ type = "anthropic", base_url = "https://relay.example", api_keys = [${keys}] }]\n[routing]\n"m" = [{ instance = "a", provider = "anthropic", model = "x", params = ${params} }]\n`;

describe("header text in the config", () => {
  test("a bad extra_headers name or value, or anthropic_beta with a line break, is an error with its place and a fix", async () => {
    const dir = tempFiles({
      "providers.toml": toml('{ anthropic_beta = "a\\nb", extra_headers = { "Bad Name" = "v", "X-Crlf" = "a\\r\\nb", "X-Far" = "日本", "X-From-Env" = "${H}", "X-Fine" = "ok" } }'),
      ".env": 'K=sk-relay-abcdef1234567890\nH="line\\nbreak"\n',
    });
    const r = await runGw(["check"], { cwd: dir });
    expect(r.code).toBe(1);
    const lines = r.stderr.split("\n");
    const at = (path: string) => lines.find((l) => l.includes(`  ${path}  error: `));
    expect(at("routing.m[0].params.anthropic_beta")).toContain("this header value holds a line break or NUL byte");
    expect(at('routing.m[0].params.extra_headers."Bad Name"')).toMatch(/providers\.toml:7:\d+ .*header name "Bad Name" has a character no header name may have .*\(write the name as a header has it/);
    expect(at("routing.m[0].params.extra_headers.X-Crlf")).toContain("holds a line break or NUL byte");
    expect(at("routing.m[0].params.extra_headers.X-Far")).toContain("beyond Latin-1");
    expect(at("routing.m[0].params.extra_headers.X-From-Env")).toContain("(the value comes from ${H}: put one line of Latin-1 text in H in .env");
    expect(lines.find((l) => l.includes("X-Fine"))).toBeUndefined();
    expect(r.stderr).toContain(": 5 errors");
  });

  test("a key with a line break or NUL (from .env or written) is an error: gen would write it into the YAML, a header would refuse it", async () => {
    const dir = tempFiles({
      "providers.toml": `[global]\nmain_port = 8145\nadmin_key = "\${ADM}"\napi_keys = ["abc\\u0000defghijklmnop"]\n[instances.a]\nport = 8146\nproviders = [{ type = "anthropic", base_url = "https://relay.example", api_keys = ["\${K}"] }]\n[instances.b]\nurl = "http://127.0.0.1:9"\napi_key = "\${K}"\n`,
      ".env": 'K="sk-relay-abcdef\\n1234567890"\nADM="abcdefghij\\nklmnop"\n',
    });
    const r = await runGw(["gen"], { cwd: dir });
    expect(r.code).toBe(1);
    const said = [
      "global.admin_key  error: ${ADM} holds a line break or NUL byte",
      "(write ADM on one line in .env: a \\n inside double quotes is a line break)",
      "global.api_keys[0]  error: this value holds a line break or NUL byte",
      "instances.a.providers[0].api_keys[0]  error: ${K} holds a line break or NUL byte",
      "instances.b.api_key  error: ${K} holds a line break or NUL byte",
      `${join(dir, "providers.toml")}: 4 errors; nothing was changed`,
    ];
    for (const line of said) expect(r.stderr).toContain(line);
  });
});
