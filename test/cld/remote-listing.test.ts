// What cld and gw run take from a team's gw at $GW_URL: its /v1/models answer. A hostile or
// broken server may list any id; only names a gw config may give a route get through, since each
// reaches the terminal (menu, launch line, OSC title), the agent's environment and config files.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { askRemote, remoteLine } from "../../src/cld/remote.ts";

const CRAFTED = [
  "ok\x1b]0;PWNED\x07\x1b]52;c;ZWNobyBwd25lZA==\x07", // title and clipboard written by the menu / launch line
  'a"\n[mcp_servers.evil]\ncommand = "touch"', // a line break into an agent's config
  "-oProxyCommand=touch", // an option where a word is expected
  "sonnet$(touch x)",
];
let server: ReturnType<typeof Bun.serve>;

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: () =>
      Response.json({
        data: [...CRAFTED.map((id) => ({ id, max_input_tokens: 1 })), { id: "opus4.6", max_input_tokens: 200_000 }, { id: "claude-gw-opus4.6", max_input_tokens: 200_000 }, { id: "qwen:7b@x/y+z", max_input_tokens: 32_000 }],
      }),
  });
});
afterAll(() => server.stop(true));

test("ids that are no route name (escape sequences, line breaks, a leading -, shell syntax) are left out", async () => {
  const listing = await askRemote({ baseUrl: `http://127.0.0.1:${server.port}`, apiKey: "k" }, {});
  expect(listing.routes).toEqual(["opus4.6", "qwen:7b@x/y+z"]);
  expect([...listing.windows.keys()]).toEqual(["opus4.6", "claude-gw-opus4.6", "qwen:7b@x/y+z"]);
});

test("the line cld says: plain http to another machine is said, https and this machine are not", () => {
  expect(remoteLine("http://10.0.0.5:8145", 3)).toBe("gw at http://10.0.0.5:8145 ($GW_URL, no providers.toml): 3 routes; plain http: your key and prompts cross the network unencrypted (use https:// if that gw has it)");
  expect(remoteLine("http://gw.team.lan/gw", 3)).toContain("plain http");
  for (const quiet of ["https://gw.example.com/gw", "http://127.0.0.1:8145", "http://localhost:8145", "http://[::1]:8145"]) {
    expect(remoteLine(quiet, 3)).toBe(`gw at ${quiet} ($GW_URL, no providers.toml): 3 routes`);
  }
});
