import { describe, expect, test } from "bun:test";
import { secretsOf, urlSecrets } from "../../src/observe/config-secrets.ts";
import { createMasker, maskSecret, maskText } from "../../src/observe/mask.ts";
import { fromToml } from "../helpers/policy.ts";

const ANT = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789";
const INSTANCE = "gw-inst-7f3a9c2e5b1d4f60a8e2";

describe("maskSecret", () => {
  test("first 6 … last 4", () => {
    expect(maskSecret(ANT)).toBe("sk-ant…6789");
    expect(maskSecret("0123456789abcdef")).toBe("012345…cdef");
  });
  test("short values are masked whole; empty stays empty", () => {
    expect(maskSecret("dummy-key")).toBe("***");
    expect(maskSecret("")).toBe("");
  });
});

describe("masker", () => {
  const m = createMasker([ANT, INSTANCE, "client-key-0123456789"]);

  test("credential headers are masked, scheme kept", () => {
    const h = m.headers(
      new Headers({
        authorization: `Bearer ${INSTANCE}`,
        "x-api-key": ANT,
        "x-goog-api-key": "AIzaSyD-0123456789abcdefghijklmnopqrstu",
        cookie: "session=abcdefghijklmnopqrstuvwxyz",
        "anthropic-version": "2023-06-01",
      }),
    );
    expect(h).toEqual({
      authorization: "Bearer gw-ins…a8e2",
      "x-api-key": "sk-ant…6789",
      "x-goog-api-key": "AIzaSy…rstu",
      cookie: "sessio…wxyz",
      "anthropic-version": "2023-06-01",
    });
  });

  test("any header value containing a known secret is masked", () => {
    expect(m.headers({ "x-custom": `token=${INSTANCE};` })["x-custom"]).toBe("token=gw-ins…a8e2;");
  });

  test("?key= in URLs", () => {
    expect(m.url("/v1beta/models/g:generateContent?alt=sse&key=AIzaSyD-0123456789abcdefghij")).toBe(
      "/v1beta/models/g:generateContent?alt=sse&key=AIzaSy…ghij",
    );
    expect(m.url("/v1/models?key=short")).toBe("/v1/models?key=***");
  });

  test("known secrets and token shapes in free text", () => {
    const t = m.text(`Incorrect API key provided: ${ANT}. Also client-key-0123456789 and Bearer ya29.a0AfH6SMBxxxxxxxxxxxxxxxxxxx`);
    expect(t).not.toContain(ANT);
    expect(t).not.toContain("client-key-0123456789");
    expect(t).not.toContain("ya29.a0AfH6SMBxxxxxxxxxxxxxxxxxxx");
    expect(t).toContain("sk-ant…6789");
  });

  test("unknown secrets of well-known shapes, without a config", () => {
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    for (const secret of ["sk-proj-AbCdEfGhIjKlMnOpQrStUv", jwt, "1//0gAbCdEfGhIjKlMnOpQrStUvWxYz"]) {
      const out = maskText(`error: ${secret} rejected`);
      expect(out).not.toContain(secret);
      expect(out).toContain(maskSecret(secret));
    }
    expect(maskText("nothing secret here")).toBe("nothing secret here");
  });

  test("a secret of 4 characters is masked; one of 3 is not looked for (it would garble ordinary words)", () => {
    const short = createMasker(["q7Zx", "k9w"]);
    expect(short.text("relay said q7Zx and k9w")).toBe("relay said *** and k9w");
    // …also when the secret is only known from a URL: a 4-character password or ?key= value.
    expect(urlSecrets("redis://:q7Zx@cache:6379/0")).toContain("q7Zx");
    expect(urlSecrets("https://relay.example/v1?key=q7Zx")).toContain("q7Zx");
  });

  test("secretsOf collects client, admin, instance and provider keys", () => {
    const cfg = fromToml(`
[global]
main_port = 8145
api_keys = ["client-1"]
admin_key = "admin-1"
[instances.relay]
url = "http://127.0.0.1:9001"
api_key = "inst-1"
providers = [{ type = "anthropic", base_url = "https://relay.example", api_keys = ["prov-1", "\${PROV2}"] }]
[routing]
"opus" = [{ instance = "relay", provider = "anthropic", model = "claude-opus" }]
`, { PROV2: "prov-2" });
    expect(secretsOf(cfg).sort()).toEqual(["admin-1", "client-1", "inst-1", "prov-1", "prov-2"]);
  });
});
