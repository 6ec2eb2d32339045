// Issue 12 item 1: no reload may leave a public listener without client keys. The rule
// (lb/exposure.ts) is checked by Gateway.reload, so every path that applies a config — the file
// watch, SIGHUP, reloader.reload() (what `gw reload` calls), and `gw lb` — refuses such a reload,
// keeps the running config and says so; a gw on loopback may drop its keys.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import { reloadRefusal, ReloadRefused, restartNotes } from "../../src/lb/exposure.ts";
import { createReloader, type ReloadLog } from "../../src/lb/reload.ts";
import { type Gateway, startGateway } from "../../src/lb/server.ts";
import { configFrom, externalInstances, waitFor } from "../helpers/lb.ts";
import { type MockServer, startMock } from "../helpers/mock.ts";
import { runGw, tempDir } from "../helpers/tmp.ts";

let mock: MockServer;
beforeAll(() => {
  mock = startMock({ name: "a" });
});
afterAll(() => mock.stop());

const toml = (host: string, keys: string, route = "m") => `
[global]
host = "${host}"
main_port = 8145
${keys}
${externalInstances({ a: mock.url })}
[routing]
"${route}" = [{ instance = "a", provider = "anthropic", model = "claude-up" }]
`;
const KEYED = 'api_keys = ["client-key"]';

describe("the rule", () => {
  test("a public listener may not lose its keys; loopback may; keys may change", () => {
    const open = configFrom(toml("0.0.0.0", ""));
    expect(reloadRefusal({ host: "0.0.0.0", port: 8145 }, open)).toBeInstanceOf(ReloadRefused);
    expect(reloadRefusal({ host: "::", port: 8145 }, open)?.message).toContain("http://[::]:8145 (every interface)");
    expect(reloadRefusal({ host: "192.0.2.2", port: 8145 }, open)).toBeInstanceOf(ReloadRefused);
    expect(reloadRefusal({ host: "127.0.0.1", port: 8145 }, open)).toBeUndefined();
    expect(reloadRefusal({ host: "0.0.0.0", port: 8145 }, configFrom(toml("0.0.0.0", 'api_keys = ["other"]')))).toBeUndefined();
  });

  test("an instance may not move onto the port the load balancer still listens on (a main_port change waits for a restart)", () => {
    // The config's own check sees main_port 9000 and the instance on 8145: no clash in the file.
    const next = configFrom(toml("127.0.0.1", "").replace("main_port = 8145", "main_port = 9000").replace(`url = "${mock.url}"`, 'url = "http://127.0.0.1:8145"'));
    const refused = reloadRefusal({ host: "127.0.0.1", port: 8145 }, next);
    expect(refused).toBeInstanceOf(ReloadRefused);
    expect([refused?.path, refused?.message, refused?.hint]).toEqual([
      "instances.a.port",
      'reload refused: instance "a" would take port 8145, where the load balancer listens until gw restarts; the running config stays',
      "give [instances.a] another port (a main_port change takes effect when gw restarts)",
    ]);
    // Once gw listens on 9000, that file is fine; an instance elsewhere on that port number is no clash.
    expect(reloadRefusal({ host: "127.0.0.1", port: 9000 }, next)).toBeUndefined();
    expect(reloadRefusal({ host: "127.0.0.1", port: 8145 }, configFrom(toml("127.0.0.1", "").replace(`url = "${mock.url}"`, 'url = "http://192.0.2.7:8145"').replace("main_port = 8145", "main_port = 9000")))).toBeUndefined();
  });

  test("a key list that resolves to empty strings is no key list: the config does not load at all", () => {
    for (const keys of ['api_keys = [""]', 'api_keys = ["${EMPTY}"]', 'api_keys = "  "', 'api_keys = ["${UNSET}"]']) {
      const { config, problems } = parseConfig(toml("0.0.0.0", keys), "/x/providers.toml", { EMPTY: "" });
      expect({ keys, config }).toEqual({ keys, config: null });
      expect(problems.filter((p) => p.severity === "error").map((p) => [p.path.replace(/\[0\]$/, ""), p.line])).toEqual([["global.api_keys", 5]]);
    }
  });

  test("gw check says so, at the entry's line, and exits 1", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "providers.toml"), toml("127.0.0.1", 'api_keys = ["${GW_EMPTY_KEY}", "real-key-0123"]'));
    const r = await runGw(["check", "-c", join(dir, "providers.toml")], { env: { GW_EMPTY_KEY: "" } });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("providers.toml:5:13  global.api_keys[0]  error: ${GW_EMPTY_KEY} is empty, so this API key would be sent empty");
  });

  test("host and port changes are said with the address really bound, at their keys, on every reload until a restart", () => {
    const started = configFrom(toml("127.0.0.1", ""));
    const next = configFrom(toml("0.0.0.0", KEYED).replace("main_port = 8145", "main_port = 9000"));
    const said = (notes: ReturnType<typeof restartNotes>) => notes.map((n) => `${n.path}  ${n.severity}: ${n.message}`);
    const expected = [
      "global.host  warning: host changed to 0.0.0.0; the load balancer stays on http://127.0.0.1:8145 until gw restarts",
      "global.main_port  warning: main_port changed to 9000; the load balancer stays on http://127.0.0.1:8145 until gw restarts",
    ];
    expect(said(restartNotes({ host: "127.0.0.1", port: 8145 }, started, next))).toEqual(expected);
    // A later reload of the same file still differs from the listener: said again, not once only.
    expect(said(restartNotes({ host: "127.0.0.1", port: 8145 }, started, next))).toEqual(expected);
    // Back to what runs: nothing to say.
    expect(restartNotes({ host: "127.0.0.1", port: 8145 }, started, started)).toEqual([]);
    expect(restartNotes({ host: "127.0.0.1", port: 0, portFixed: true }, started, configFrom(toml("127.0.0.1", "").replace("8145", "9000")))).toEqual([]);
  });
});

describe("a gateway listening on every interface with client keys", () => {
  let dir: string, file: string, gw: Gateway;
  const lines: string[] = [];
  const log: ReloadLog = { info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) };
  beforeAll(() => {
    dir = tempDir();
    file = join(dir, "providers.toml");
    writeFileSync(file, toml("0.0.0.0", KEYED));
    gw = startGateway(configFrom(toml("0.0.0.0", KEYED), file), { port: 0, log });
  });
  afterAll(() => gw.stop(0));

  const askWithoutKey = async () => (await fetch(`http://127.0.0.1:${gw.port}/v1/messages`, { method: "POST", body: '{"model":"m","max_tokens":5,"messages":[]}' })).status;

  test("it listens where the config says, and says so", () => {
    expect(gw.listening).toMatchObject({ host: "0.0.0.0" });
  });

  test("Gateway.reload refuses a keyless config and changes nothing", () => {
    const before = gw.config();
    expect(() => gw.reload(configFrom(toml("0.0.0.0", ""), file))).toThrow(ReloadRefused);
    expect(() => gw.reload(configFrom(toml("127.0.0.1", ""), file))).toThrow(ReloadRefused); // a host edit does not move the socket
    expect(gw.config()).toBe(before);
  });

  test("file watch, SIGHUP and reload(): refused loudly, keys still required, a keyed edit still applies", async () => {
    const reloader = createReloader({ file, log, apply: (c) => void gw.reload(c), debounceMs: 30 });
    try {
      expect(await askWithoutKey()).toBe(401);
      expect(lines).toContain("warn refused a request from 127.0.0.1 with no client key");
      writeFileSync(file, toml("0.0.0.0", "", "opened"));
      await waitFor(() => lines.some((l) => l.startsWith("error") && l.includes("reload refused")), 10_000, "the file watch to refuse");
      const direct = await reloader.reload();
      expect(direct.ok).toBe(false);
      expect(direct.problems[0]).toMatchObject({ severity: "error", path: "global.api_keys" });
      expect(direct.problems[0]!.message).toContain("listens on http://0.0.0.0:");
      const refusals = lines.filter((l) => l.includes("reload refused")).length;
      process.kill(process.pid, "SIGHUP");
      await waitFor(() => lines.filter((l) => l.includes("reload refused")).length > refusals, 10_000, "SIGHUP to refuse");
      expect(lines.some((l) => l.includes("binding 127.0.0.1"))).toBe(false); // never claims an address it does not use
      expect(gw.config().routes.has("opened")).toBe(false);
      expect(await askWithoutKey()).toBe(401);

      writeFileSync(file, toml("0.0.0.0", 'api_keys = ["new-key"]', "rekeyed"));
      await waitFor(() => gw.config().routes.has("rekeyed"), 10_000, "the keyed edit to apply");
      expect(await askWithoutKey()).toBe(401);
    } finally {
      reloader.close();
    }
  });
});

test("`gw lb` on every interface refuses a keyless edit and keeps requiring keys", async () => {
  const dir = tempDir();
  const file = join(dir, "providers.toml");
  writeFileSync(file, toml("0.0.0.0", KEYED));
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "../../src/main.ts"), "lb", "-c", file, "--port", "0"], {
    cwd: dir,
    env: { ...process.env, NODE_ENV: "production", NO_COLOR: "1", XDG_CACHE_HOME: join(dir, "cache") }, // its running-gw entry stays here
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const c of s) out += new TextDecoder().decode(c);
  };
  void pump(proc.stdout);
  void pump(proc.stderr);
  try {
    await waitFor(() => /listening on http:\/\/0\.0\.0\.0:\d+ \(every interface\)/.test(out), 20_000, `gw lb to listen:\n${out}`);
    const port = /0\.0\.0\.0:(\d+)/.exec(out)![1];
    writeFileSync(file, toml("0.0.0.0", "", "opened"));
    await waitFor(() => out.includes("reload refused"), 20_000, `gw lb to refuse the keyless edit:\n${out}`);
    const res = await fetch(`http://127.0.0.1:${port}/v1/messages`, { method: "POST", body: '{"model":"opened"}' });
    expect(res.status).toBe(401);
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}, 40_000);
