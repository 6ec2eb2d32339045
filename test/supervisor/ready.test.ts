// The readiness probe against real servers: /healthz, and the /v1/models fallback of older builds.
import { afterAll, expect, test } from "bun:test";
import { groupListensOn } from "../../src/supervisor/proc.ts";
import { probe, waitReady } from "../../src/supervisor/ready.ts";

const servers: ReturnType<typeof Bun.serve>[] = [];
afterAll(() => {
  for (const s of servers) s.stop(true);
});

function serve(fetch: (req: Request) => Response) {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch });
  servers.push(s);
  return `http://127.0.0.1:${s.port}`;
}

test("a server with /healthz is ready without a key", async () => {
  const url = serve((req) => (new URL(req.url).pathname === "/healthz" ? Response.json({ status: "ok" }) : new Response("no", { status: 401 })));
  expect(await probe(url, "")).toBe(true);
});

test("without /healthz the probe asks /v1/models with the instance's key", async () => {
  const url = serve((req) => {
    if (new URL(req.url).pathname !== "/v1/models") return new Response("404 page not found", { status: 404 });
    return req.headers.get("authorization") === "Bearer k1" ? Response.json({ data: [] }) : Response.json({ error: "Invalid API key" }, { status: 401 });
  });
  expect(await probe(url, "k1")).toBe(true);
  expect(await probe(url, "wrong")).toBe(false);
});

test("the instance's key goes only to a port its own processes listen on", async () => {
  // Another local user's server that took the port first answers /healthz 404, as an old build
  // would, to be handed the key by the /v1/models fallback.
  const keys: (string | null)[] = [];
  const taker = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => (keys.push(req.headers.get("authorization")), new Response("404 page not found", { status: 404 })) });
  servers.push(taker);
  const url = `http://127.0.0.1:${taker.port}`;
  // An instance that never bound the port: its group is not the taker's.
  const child = Bun.spawn(["sleep", "30"], { detached: true });
  try {
    const owns = () => groupListensOn(child.pid, taker.port!);
    expect(await owns()).toBe(false);
    expect(await probe(url, "k1", owns)).toBe(false);
    expect(await waitReady(url, "k1", { timeoutMs: 300, pollMs: 50, exited: child.exited, ownsPort: owns })).toBe("timeout");
    expect(keys.length).toBeGreaterThan(0); // it was asked /healthz …
    expect(keys.every((k) => k === null)).toBe(true); // … and never given the key
  } finally {
    child.kill();
  }
});

test("an older build's own listener, also one its wrapper started, is found in its group and given the key", async () => {
  // `command = "sh -c …"`: the listener is a child of the group's leader, not the leader. It has
  // no /healthz (an older build): only the key probe can find it ready.
  const server = `const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (r) => new URL(r.url).pathname === "/v1/models" && r.headers.get("authorization") === "Bearer k1" ? Response.json({ data: [] }) : new Response("404 page not found", { status: 404 }) }); console.log(s.port)`;
  const child = Bun.spawn(["sh", "-c", `${process.execPath} -e '${server}' & wait`], { detached: true, stdout: "pipe" });
  try {
    const reader = child.stdout.getReader();
    const port = Number(new TextDecoder().decode((await reader.read()).value).trim());
    expect(port).toBeGreaterThan(0);
    const owns = () => groupListensOn(child.pid, port);
    expect(await owns()).toBe(true);
    expect(await probe(`http://127.0.0.1:${port}`, "k1", owns)).toBe(true);
  } finally {
    process.kill(-child.pid, "SIGKILL");
  }
});

test("a server that is not ready at the first probe is probed again soon, not a whole poll interval later", async () => {
  // The answer turns healthy as soon as the first probe is seen; with a poll of a minute, only a
  // short first wait lets waitReady see it within the test's timeout (it waited the whole poll).
  let probes = 0;
  const url = serve(() => (++probes > 1 ? Response.json({ status: "ok" }) : new Response("starting", { status: 503 })));
  expect(await waitReady(url, "", { timeoutMs: 120_000, pollMs: 60_000, exited: new Promise(() => {}) })).toBe("ready");
  expect(probes).toBe(2);
});

test("an instance that takes long is not probed in a busy loop: the waits double up to pollMs", async () => {
  // Waits of 10, 20, 40, 80, 160, then 200 ms: a probe after each wait that began before the
  // 1 s deadline, so at most 10 probes however slow the machine (a sleep is never shorter).
  let probes = 0;
  const url = serve(() => (probes++, new Response("starting", { status: 503 })));
  expect(await waitReady(url, "", { timeoutMs: 1_000, pollMs: 200, exited: new Promise(() => {}) })).toBe("timeout");
  expect(probes).toBeGreaterThanOrEqual(2);
  expect(probes).toBeLessThanOrEqual(10);
});

test("a 500 on /healthz is not ready, nothing listening is not ready, and waitReady gives up at its deadline", async () => {
  const url = serve(() => new Response("boom", { status: 500 }));
  expect(await probe(url, "k")).toBe(false);
  const gone = serve(() => new Response("x"));
  servers.pop()!.stop(true);
  expect(await probe(gone, "k")).toBe(false);
  expect(await waitReady(url, "k", { timeoutMs: 300, pollMs: 50, exited: new Promise(() => {}) })).toBe("timeout");
  expect(await waitReady(url, "k", { timeoutMs: 5_000, pollMs: 50, exited: Promise.resolve() })).toBe("exited");
});
