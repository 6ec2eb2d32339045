import { afterAll, expect, test } from "bun:test";
import { createServer } from "node:net";
import { askGateway, gatewayAnswers } from "../../src/cld/probe.ts";
import { closedPort } from "../helpers/cld.ts";

const gw = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("no key", { status: 401 }) });
const silent = createServer(() => {}).listen(0, "127.0.0.1");
afterAll(() => {
  gw.stop(true);
  silent.close();
});

test("any HTTP answer means up, even 401, and a user's HTTP_PROXY does not get in the way", async () => {
  const saved = process.env.HTTP_PROXY;
  process.env.HTTP_PROXY = `http://127.0.0.1:${closedPort()}`;
  try {
    expect(await gatewayAnswers(`http://127.0.0.1:${gw.port}`)).toBe(true);
  } finally {
    if (saved === undefined) delete process.env.HTTP_PROXY;
    else process.env.HTTP_PROXY = saved;
  }
});

test("nothing listening, or a listener that never answers, means down", async () => {
  expect(await gatewayAnswers(`http://127.0.0.1:${closedPort()}`)).toBe(false);
  const { port } = silent.address() as { port: number };
  expect(await gatewayAnswers(`http://127.0.0.1:${port}`, 200)).toBe(false);
});

test("askGateway: up, and the windows gw lists for Claude Code (Anthropic shape, the key as Bearer)", async () => {
  const seen: Headers[] = [];
  const models = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      seen.push(req.headers);
      if (req.headers.get("authorization") !== "Bearer right") return new Response("no", { status: 401 });
      return Response.json({ data: [{ id: "g3f", max_input_tokens: 1_000_000 }, { id: "claude-gw-g3f", max_input_tokens: 1_000_000 }, { id: "odd" }], has_more: false });
    },
  });
  try {
    const url = `http://127.0.0.1:${models.port}`;
    const ok = await askGateway(url, "right");
    expect(ok.up).toBe(true);
    expect([...ok.windows!]).toEqual([["g3f", 1_000_000], ["claude-gw-g3f", 1_000_000]]);
    expect(seen[0]!.get("anthropic-version")).toBe("2023-06-01");
    expect(await askGateway(url, "wrong")).toEqual({ up: true, windows: undefined }); // 401 still means up
    expect(await askGateway(`http://127.0.0.1:${gw.port}`, "k")).toEqual({ up: true, windows: undefined }); // not gw's list
    expect(await askGateway(`http://127.0.0.1:${closedPort()}`, "k")).toEqual({ up: false });
  } finally {
    models.stop(true);
  }
});
