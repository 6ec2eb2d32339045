// A cooldown the old gw sets while it finishes its requests during `gw upgrade` reaches the new gw
// only through the state file, once the old one has exited (state.refresh()). The new gw must
// probe that target's instance before a user's request may be its trial. Real processes: `gw up`,
// `gw upgrade`; instance c is down (it answers everything, probes included, with 503, and counts).
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { externalInstances, testUpstream } from "../helpers/lb.ts";
import { startMock } from "../helpers/mock.ts";
import { freePort } from "../helpers/ports.ts";
import { alive, gw, killAll, until, untilLogged } from "../helpers/supervisor.ts";
import { tempDir } from "../helpers/tmp.ts";

const COOLDOWN_MS = 3000; // a 503 cools for lb_transient_heavy_cooldown_ms

const dir = tempDir("gw-upgrade-probe-");
afterAll(async () => {
  await killAll({ dir });
});

test("a cooldown the old gw set during the hand-over is probed by the new gw before any user request reaches the down instance", async () => {
  let release = () => {};
  const released = new Promise<void>((r) => (release = r));
  let posts = 0;
  const c = testUpstream(async (req) => {
    // The first request is held until the new gw serves: its 503 then cools c in the old gw only.
    if (req.method === "POST" && ++posts === 1) await released;
    return Response.json({ type: "error", error: { type: "api_error", message: "down" } }, { status: 503 });
  });
  const d = startMock({ name: "d", apiKeys: ["key-d"] });
  try {
    const port = await freePort();
    const file = join(dir, "providers.toml");
    writeFileSync(
      file,
      `[global]\nhost = "127.0.0.1"\nmain_port = ${port}\nlb_transient_heavy_cooldown_ms = ${COOLDOWN_MS}\nshutdown_grace_ms = 15000\n\n` +
        `${externalInstances({ c: c.url, d: d.url })}\n[routing]\n"flaky" = [{ instance = "c", provider = "anthropic", model = "claude-c", priority = 1 }, { instance = "d", provider = "anthropic", model = "claude-d" }]\n`,
    );
    const sb = { dir, env: { ...process.env, XDG_CACHE_HOME: join(dir, "cache"), XDG_DATA_HOME: join(dir, "data"), GW_CONFIG: undefined, GW_CLIPROXY: undefined, GW_STATE: undefined, NO_COLOR: "1" } };
    expect((await gw(sb, ["up", "-d", "-c", file])).code).toBe(0);
    const url = `http://127.0.0.1:${port}`;
    const ask = async () => {
      const res = await fetch(`${url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "flaky", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }),
      });
      await res.arrayBuffer();
      expect(res.status).toBe(200);
      return res.headers.get("x-gw-target");
    };
    const oldPid = Number((await gw(sb, ["status", "--json", "-c", file])).stdout.match(/"pid":\s*(\d+)/)?.[1]);

    const first = ask(); // held at c by the old gw
    await until(() => posts === 1, 10_000, () => "the first request to reach c");
    const up = await gw(sb, ["upgrade", "--json", "-c", file]);
    expect(JSON.parse(up.stdout)).toMatchObject({ ok: true });
    release(); // c's 503 now cools it in the old gw, which fails over to d and then exits
    expect(await first).toBe("d/claude-d");
    await until(async () => !(await alive(oldPid)), 40_000, () => `old gw ${oldPid} still running`);
    // The new gw takes the file up once it has seen the old one exit (it looks every 250 ms): a
    // request before that cannot know c cools. Wait for the event, as `gw status` shows it.
    await until(async () => (await gw(sb, ["status", "--json", "-c", file])).stdout.includes("flaky → claude-c"), 10_000, () => "the new gw to take up the old one's cooldown of c");

    // The new gw's users: none of their requests may reach c, and the new gw probes c itself.
    const downProbes = async () => Number(/gw_probes_total\{instance_name="c",result="down"\} (\d+)/.exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? 0);
    await until(
      async () => {
        expect(await ask()).toBe("d/claude-d");
        return posts > 1 || (await downProbes()) > 0;
      },
      COOLDOWN_MS + 30_000,
      () => "the new gw to probe c",
    );
    expect(posts).toBe(1);
    await untilLogged(sb, "probe: instance c is down");
    expect((await gw(sb, ["down", "-c", file])).code).toBe(0);
  } finally {
    await killAll({ dir });
    await c.stop();
    await d.stop();
  }
}, 120_000);
