// Config problems never print a key in full: two .env variables swapped put a key where a URL or
// a name belongs, and its problem quoted it (gw check, --json, gen, up, login, usage alike).
import { describe, expect, test } from "bun:test";
import { runGw, tempFiles } from "../helpers/tmp.ts";

const KEY = "sk-ant-api03-REALKEYabcdefghijklmnop";
// No known token shape: only its coming from a ${VAR} marks it.
const PLAIN_KEY = "0f3c9a7be21d4c58a6e0b9d1c2f4e8a7";
const TOML = `[global]
main_port = 8145
cors_origins = ["\${RELAY_KEY}"]
state = "\${RELAY_KEY}"
default_instance = "\${PLAIN}"
[instances.a]
port = 8146
providers = [{ type = "anthropic", base_url = "\${RELAY_KEY}", api_keys = ["\${RELAY_URL}"] }]
[instances.b]
url = "\${PLAIN}"
[routing]
"m" = [{ instance = "a", provider = "anthropic", model = "x" }, { instance = "\${PLAIN}", provider = "anthropic", model = "x" }]
`;
const ENV = `RELAY_KEY=${KEY}\nRELAY_URL=https://relay.example.com\nPLAIN=${PLAIN_KEY}\n`;

describe("config problems mask what ${VAR}s gave", () => {
  test("gw check and --json quote neither key; the hints send the user to .env, not to paste the value", async () => {
    const dir = tempFiles({ "providers.toml": TOML, ".env": ENV });
    const text = await runGw(["check"], { cwd: dir });
    expect(text.code).toBe(1);
    expect(text.stderr).toContain('base_url "sk-ant…mnop" is not an http(s) URL  (the value comes from ${RELAY_KEY}: put the relay\'s http(s) URL in RELAY_KEY in .env');
    expect(text.stderr).toContain('names unknown instance "0f3c9a…e8a7"  (the value comes from ${PLAIN}: put an instance\'s name in PLAIN in .env');
    expect(text.stderr).toContain("instances.b.url  error: \"0f3c9a…e8a7\" is not an http(s) URL");
    expect(text.stderr).toContain('default_instance "0f3c9a…e8a7" is not defined');
    const json = await runGw(["check", "--json"], { cwd: dir });
    expect(JSON.parse(json.stdout).problems.length).toBe(6);
    const gen = await runGw(["gen"], { cwd: dir });
    expect(gen.code).toBe(1);
    for (const out of [text.stderr, json.stdout, gen.stderr]) {
      expect(out).not.toContain("REALKEY");
      expect(out).not.toContain(PLAIN_KEY.slice(6, -4));
    }
  });

  test("a short value a ${VAR} gave stays readable: it is no key, and masking it would garble the message", async () => {
    const dir = tempFiles({ "providers.toml": `[global]\nmain_port = 8145\ndefault_instance = "\${DEF}"\n[instances.a]\nport = 8146\nproviders = [{ type = "antigravity" }]\n`, ".env": "DEF=main\n" });
    const r = await runGw(["check"], { cwd: dir });
    expect(r.stderr).toContain('default_instance "main" is not defined  (use one of: a)');
  });
});
