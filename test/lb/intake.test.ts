import { describe, expect, test } from "bun:test";
import { type Intake, readIntake } from "../../src/lb/intake.ts";

const LIMITS = { maxBodyBytes: 1 << 20, maxJsonDepth: 128, maxJsonElements: 500_000 };
const URL_ = new URL("http://127.0.0.1:8145/v1/messages");

async function intakeOf(init: RequestInit): Promise<Intake> {
  const got = await readIntake(new Request(URL_, init), URL_, LIMITS);
  if (got instanceof Response) throw new Error(`answered ${got.status}: ${await got.text()}`);
  return got;
}

describe("readIntake: the three ways a body arrives", () => {
  const text = JSON.stringify({ model: "g3f", max_tokens: 5, messages: [{ role: "user", content: "hi" }] });

  test("with a declared length: read as text, parsed, its members found", async () => {
    const i = await intakeOf({ method: "POST", headers: { "content-type": "application/json", "content-length": String(text.length) }, body: text });
    expect(i.raw).toBe(text);
    expect(i.model).toBe("g3f");
    expect(i.members?.map((m) => m.key)).toEqual(["model", "max_tokens", "messages"]);
  });

  test("chunked (no length): counted as it arrives, the same intake", async () => {
    const bytes = new TextEncoder().encode(text);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes.slice(0, 10));
        c.enqueue(bytes.slice(10));
        c.close();
      },
    });
    const i = await intakeOf({ method: "POST", headers: { "content-type": "application/json" }, body, duplex: "half" } as RequestInit);
    expect(i.raw).toBe(text);
    expect(i.json).toEqual(JSON.parse(text));
  });

  test("no body at all: nothing to parse, nothing to route by", async () => {
    // (A model call without a body is refused for naming no model: test/lb/sdk.test.ts.)
    const i = await readIntake(new Request("http://127.0.0.1:8145/v1/images/generations", { method: "POST" }), new URL("http://127.0.0.1:8145/v1/images/generations"), LIMITS);
    if (i instanceof Response) throw new Error(`answered ${i.status}`);
    expect(i.raw).toBeUndefined();
    expect(i.json).toBeUndefined();
    expect(i.model).toBeUndefined();
  });
});
