import { afterAll, expect, test } from "bun:test";
import { createServer } from "node:net";
import { gatewayAnswers } from "../../src/cld/probe.ts";
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
