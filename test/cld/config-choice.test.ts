// cld in a checkout it does not trust (issue 12 item 3): a providers.toml there is used only
// once confirmed on the terminal (again after any change to it or its .env); a running gw's
// config wins over it; and a key from the user's environment never goes to a host that is not
// this machine unless the user named the file. cld always says which config it uses.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { appendFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { rememberConfirmed, fingerprint } from "../../src/cld/confirmed.ts";
import { freePort, freePorts } from "../helpers/ports.ts";
import { listRunning } from "../../src/supervisor/registry.ts";
import { CldSandbox, cldConfig, fakeGateway, MAIN, removeSandboxes } from "../helpers/cld.ts";
import { gw, killAll, type Sandbox, sandbox, until } from "../helpers/supervisor.ts";
import { TmuxPane } from "./tmux-pane.ts";

setDefaultTimeout(90_000); // real gws, real terminals, a shared 2-core machine
const gateway = fakeGateway();
const port = gateway.port!;
const gws: Sandbox[] = [];
afterAll(async () => {
  gateway.stop(true);
  for (const sb of gws) await killAll(sb);
  removeSandboxes();
});

const SECRET = "sk-user-own-secret-0123456789abcdef";

/** A checkout with its own providers.toml (and optionally a .env), as a cloned repo brings it. */
function checkout(box: CldSandbox, toml: string, dotenv?: string): string {
  const dir = join(box.dir, `checkout-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dir);
  writeFileSync(join(dir, "providers.toml"), toml);
  if (dotenv !== undefined) writeFileSync(join(dir, ".env"), dotenv);
  return dir;
}

const NOT_CONFIRMED = "gw: providers.toml is not confirmed for cld, and there is no terminal to ask\n  name it if you trust it: cld -c providers.toml …  (or run cld once in a terminal to confirm it)\n";

/** cld in a tmux pane (a real terminal) inside `cwd`; `drive` answers; returns the final screen. */
async function onTerminal(box: CldSandbox, cwd: string, args: string[], env: Record<string, string>, drive: (t: TmuxPane) => Promise<void>) {
  box.clearCall();
  const pane = new TmuxPane(box.dir);
  try {
    await pane.start(["/bin/sh", "-c", 'cd "$0" && exec "$@"', cwd, process.execPath, MAIN, "cld", ...args], box.env(env));
    await drive(pane);
    return await pane.waitFor(/\[exit \d+\]/);
  } finally {
    await pane.kill();
  }
}

describe("a providers.toml in the current directory", () => {
  const box = new CldSandbox({ tools: ["tmux"] });
  const env = { SECRET };
  const dir = checkout(box, cldConfig(port, 'api_keys = ["${SECRET}"]').replace('host = "0.0.0.0"', 'host = "127.0.0.1"'));

  test("is not used unasked: without a terminal, one line and claude is not started", async () => {
    const r = await box.run(["cp", "g3f", "-p", "hi"], { env, cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(NOT_CONFIRMED);
    expect(r.call).toBeNull();
  });

  test("shell completion offers the built-in routes instead of asking (never a question on TAB)", async () => {
    const r = await box.run(["cld", "cp", ""], { env, cwd: dir, cmd: [process.execPath, MAIN, "_complete", "--"] });
    expect(r.stdout).toBe("opus4.6\ng3p\ng3f\ng3p.auto\ng3f.auto\n");
    expect(r.stderr).toBe("");
  });

  test("is confirmed once on the terminal; then used without asking until it or its .env changes", async () => {
    const screen = await onTerminal(box, dir, ["cp", "g3f", "-p", "hi"], env, async (t) => {
      const q = await t.waitFor("[y/N]");
      expect(q).toContain(`cld: providers.toml was not chosen for cld before; it sends Claude Code to http://127.0.0.1:${port}`);
      expect(q).toContain("Use providers.toml for cld (asked again when it changes)? [y/N]");
      await t.send("-l", "y");
      await t.send("Enter");
    });
    expect(screen).toContain(`cld: config providers.toml (./providers.toml, confirmed) → http://127.0.0.1:${port}`);
    expect(box.lastCall()!.env).toMatchObject({ ANTHROPIC_AUTH_TOKEN: SECRET, ANTHROPIC_MODEL: "g3f" }); // loopback: the key may go

    const again = await box.run(["cp", "g3f", "-p", "hi"], { env, cwd: dir });
    expect(again.stderr.split("\n")[0]).toBe(`cld: config providers.toml (./providers.toml, confirmed before) → http://127.0.0.1:${port}`); // then the launch line
    expect(again.call!.env.ANTHROPIC_MODEL).toBe("g3f");

    const completion = await box.run(["cld", "cp", ""], { env, cwd: dir, cmd: [process.execPath, MAIN, "_complete", "--"] });
    expect(completion.stdout).toContain("kimi-k2"); // now its own routes

    appendFileSync(join(dir, "providers.toml"), "# one more line\n");
    expect((await box.run(["cp", "g3f"], { env, cwd: dir })).stderr).toBe(NOT_CONFIRMED);

    await onTerminal(box, dir, ["cp", "g3f", "-p", "hi"], env, async (t) => {
      expect(await t.waitFor("[y/N]")).toContain("providers.toml changed since you confirmed it");
      await t.send("-l", "y");
      await t.send("Enter");
    });
    expect((await box.run(["cp", "g3f"], { env, cwd: dir })).call).not.toBeNull();
    writeFileSync(join(dir, ".env"), "OTHER=1\n"); // a .env can fill in ${VAR}s, the host included
    expect((await box.run(["cp", "g3f"], { env, cwd: dir })).stderr).toBe(NOT_CONFIRMED);
  });

  test("the question never shows what the address takes from the environment; one that would go abroad is refused before it is asked", async () => {
    const abroad = checkout(box, cldConfig(port, 'api_keys = ["k"]').replace('host = "0.0.0.0"', 'host = "${SECRET_HOST}"'));
    const token = "ghp-topsecrettoken0123456789";
    const refused = await onTerminal(box, abroad, ["cp", "g3f", "-p", "hi"], { SECRET_HOST: `${token}.example.invalid` }, async (t) => void (await t.waitFor(/\[exit \d+\]/)));
    expect(refused).toContain("providers.toml would send its address");
    expect(refused).not.toContain("[y/N]");
    expect(refused.replaceAll("\n", "")).not.toContain(token);
    const local = checkout(box, cldConfig(port, 'api_keys = ["k"]').replace('host = "0.0.0.0"', 'host = "${LOCAL_HOST}"'));
    await onTerminal(box, local, ["cp", "g3f", "-p", "hi"], { LOCAL_HOST: "127.0.0.1" }, async (t) => {
      expect(await t.waitFor("[y/N]")).toContain("cld: providers.toml was not chosen for cld before; it sends Claude Code to an address it takes from your environment");
      await t.send("-l", "n");
      await t.send("Enter");
      const s = await t.waitFor(/Start Claude Code anyway\?|\[exit \d+\]/);
      if (s.includes("anyway?")) await t.send("Enter");
    });
  });

  test("answering No uses the built-in routes instead", async () => {
    const screen = await onTerminal(box, dir, ["cp", "g3f", "-p", "hi"], env, async (t) => {
      await t.waitFor("[y/N]");
      await t.send("-l", "n");
      await t.send("Enter");
      // The built-in gateway (8145) may be down here: then decline starting anyway too.
      const s = await t.waitFor(/Start Claude Code anyway\?|\[exit \d+\]/);
      if (s.includes("anyway?")) await t.send("Enter");
    });
    expect(screen).toContain("cld: not using providers.toml: built-in routes → http://127.0.0.1:8145");
  });
});

describe("a running gw", () => {
  const box = new CldSandbox({ tools: ["tmux"] });

  test("its config is used wherever cld runs — over a checkout's file — at the address it really serves", async () => {
    const one = await sandbox([{ name: "a" }]);
    gws.push(one);
    const lbPort = await freePort(); // not main_port: cld must take the address from the gw itself
    expect((await gw(one, ["up", "-d", "-c", one.file, "--port", String(lbPort)])).code).toBe(0);
    const registry = { XDG_CACHE_HOME: one.env.XDG_CACHE_HOME! };
    const [entry] = await listRunning(registry);
    expect(entry).toMatchObject({ kind: "up", config: one.file, url: `http://127.0.0.1:${lbPort}` });

    const hostile = checkout(box, cldConfig(port, 'api_keys = ["${SECRET}"]').replace('host = "0.0.0.0"', 'host = "203.0.113.9"'));
    const env = { ...registry, SECRET };
    const r = await box.run(["cp", "m", "-p", "hi"], { env, cwd: hostile });
    expect(r.stderr.split("\n")[0]).toBe(`cld: config ${one.file} (the gw running as pid ${entry!.pid}) → http://127.0.0.1:${lbPort}`); // then the launch line
    expect(r.call!.env).toMatchObject({ ANTHROPIC_BASE_URL: `http://127.0.0.1:${lbPort}`, ANTHROPIC_MODEL: "m", ANTHROPIC_AUTH_TOKEN: "dummy-key" });
    // Named with -c (as the demo's banner says to), the file is still that gw's: reached where it
    // serves, not at its main_port, where cld said "not answering; start it with gw up -d".
    const named = await box.run(["cp", "-c", one.file, "m", "-p", "hi"], { env, cwd: hostile });
    expect(named.stderr.split("\n")[0]).toBe(`cld: config ${one.file} (-c) → http://127.0.0.1:${lbPort}`);
    expect(named.call!.env.ANTHROPIC_BASE_URL).toBe(`http://127.0.0.1:${lbPort}`);
    // So is a symlink to it (a dotfiles checkout): it went to main_port, where nothing answers.
    const link = join(hostile, "linked.toml");
    symlinkSync(one.file, link);
    const linked = await box.run(["cp", "-c", link, "m", "-p", "hi"], { env, cwd: hostile });
    expect(linked.stderr.split("\n")[0]).toBe(`cld: config ${one.file} (-c) → http://127.0.0.1:${lbPort}`);
    expect(linked.call!.env.ANTHROPIC_BASE_URL).toBe(`http://127.0.0.1:${lbPort}`);

    // A second gw: from elsewhere cld cannot tell which is meant and says so; in its directory it can.
    const two = await sandbox([{ name: "b" }]);
    gws.push(two);
    expect((await gw({ ...two, env: { ...two.env, ...registry } }, ["up", "-d", "-c", two.file])).code).toBe(0);
    const pids = (await listRunning(registry)).map((e) => e.pid);
    const several = await box.run(["cp", "m"], { env, cwd: hostile });
    expect(several.code).toBe(1);
    expect(several.stderr).toBe(
      `gw: 2 gateways are running: ${one.file} (http://127.0.0.1:${lbPort}, pid ${pids[0]}); ${two.file} (http://127.0.0.1:${two.mainPort}, pid ${pids[1]})\n  choose one: cld -c FILE …\n`,
    );
    // gw's commands that only read a config ask the same way where none is found.
    const nowhere = { dir: box.dir, env: { ...process.env, ...registry, GW_CONFIG: undefined } };
    expect(await gw(nowhere, ["usage"])).toMatchObject({
      code: 1,
      stderr: `gw: no providers.toml here, and 2 gateways are running: ${one.file} (http://127.0.0.1:${lbPort}, pid ${pids[0]}); ${two.file} (http://127.0.0.1:${two.mainPort}, pid ${pids[1]})\n  choose one with -c FILE\n`,
    });
    // On a terminal they are offered (it said "choose one: cld -c FILE …" there too, a dead end).
    const screen = await onTerminal(box, hostile, ["cp", "m", "-p", "hi"], env, async (t) => {
      await t.waitFor("Pick 1-2");
      await t.send("-l", "2");
      await t.send("Enter");
    });
    expect(screen).toContain(`Gateway:\n   1) ${one.file} (pid ${pids[0]})`);
    expect(screen).toContain(`cld: config ${two.file} (the gw running as pid ${pids[1]}, chosen) → http://127.0.0.1:${two.mainPort}`);
    expect(box.lastCall()!.env).toMatchObject({ ANTHROPIC_BASE_URL: `http://127.0.0.1:${two.mainPort}`, ANTHROPIC_MODEL: "m" });
    const inTwo = await box.run(["cp", "m", "-p", "hi"], { env, cwd: two.dir });
    expect(inTwo.call!.env.ANTHROPIC_BASE_URL).toBe(`http://127.0.0.1:${two.mainPort}`);

    // Once they stop, their entries are gone and the checkout's file is not used unasked.
    expect((await gw(one, ["down", "-c", one.file])).code).toBe(0);
    expect((await gw({ ...two, env: { ...two.env, ...registry } }, ["down", "-c", two.file])).code).toBe(0);
    expect(await listRunning(registry)).toEqual([]);
    expect((await box.run(["cp", "m"], { env, cwd: hostile })).stderr).toBe(NOT_CONFIRMED);
  });
});

describe("two gws serving two links to one file (a dotfiles checkout linked into two folders)", () => {
  const box = new CldSandbox();

  test("-c names the one it means: the gw registered under that very path, not the first that serves the same file", async () => {
    const real = box.writeConfig("real.toml", cldConfig(await freePort()).replace('host = "0.0.0.0"', 'host = "127.0.0.1"'));
    const registry = { XDG_CACHE_HOME: join(box.dir, "registry") };
    const links = ["one", "two"].map((d) => {
      mkdirSync(join(box.dir, d));
      symlinkSync(real, join(box.dir, d, "providers.toml"));
      return join(box.dir, d, "providers.toml");
    });
    // `gw lb` alone: no instances to start, so the two can serve one file (each on its own port).
    const ports = await freePorts(2);
    const lbs = links.map((file, i) =>
      Bun.spawn([process.execPath, MAIN, "lb", "-c", file, "--port", String(ports[i])], { env: { ...process.env, ...registry, GW_CONFIG: undefined }, stdout: "ignore", stderr: "ignore" }),
    );
    try {
      await until(async () => (await listRunning(registry)).length === 2, 60_000, () => "two gw lb registered");
      for (const [i, file] of links.entries()) {
        const r = await box.run(["cp", "-c", file, "g3f", "-p", "hi"], { env: registry });
        // It went to the first gw serving the same file, though the second was started through this very path.
        expect(r.stderr.split("\n")[0]).toBe(`cld: config ${relative(box.dir, file)} (-c) → http://127.0.0.1:${ports[i]}`);
        expect(r.call!.env.ANTHROPIC_BASE_URL).toBe(`http://127.0.0.1:${ports[i]}`);
        // So does cld in that folder: its ./providers.toml is the link this gw serves.
        const here = await box.run(["cp", "g3f", "-p", "hi"], { env: registry, cwd: dirname(file) });
        expect(here.call!.env.ANTHROPIC_BASE_URL).toBe(`http://127.0.0.1:${ports[i]}`);
      }
    } finally {
      for (const lb of lbs) lb.kill();
      await Promise.all(lbs.map((lb) => lb.exited));
    }
  });
});

describe("a running gw whose file does not load here", () => {
  const box = new CldSandbox();

  test("an edit gone wrong, or a key set only where gw was started: Claude Code goes to that gw (its last good version), with the routes it lists", async () => {
    // The client key comes from the environment gw was started in, which cld's lacks.
    const sb = await sandbox([{ name: "a" }], 'api_keys = ["${GW_CLIENT_KEY}"]');
    gws.push(sb);
    const started = await gw({ ...sb, env: { ...sb.env, GW_CLIENT_KEY: "sk-started-with" } }, ["up", "-d", "-c", sb.file]);
    expect(started.code).toBe(0);
    const registry = { XDG_CACHE_HOME: sb.env.XDG_CACHE_HOME! };
    const [entry] = await listRunning(registry);
    const url = `http://127.0.0.1:${sb.mainPort}`;
    // Without the key: that gw is asked, and says it wants one — not "not answering" at 8145.
    const keyless = await box.run(["cp", "-c", sb.file, "m", "-p", "hi"], { env: registry });
    expect(keyless.code).toBe(1);
    expect(keyless.stderr).toContain(`the gateway at ${url} wants a key (401) and $GW_API_KEY is not set`);
    expect(keyless.stderr).not.toContain("8145");
    const keyed = await box.run(["cp", "-c", sb.file, "m", "-p", "hi"], { env: { ...registry, GW_API_KEY: "sk-started-with" } });
    expect(keyed.stderr.split("\n")[0]).toMatch(/^cld: .*providers\.toml: .*GW_CLIENT_KEY.*; the gw running as pid \d+ serves its last good version → /);
    expect(keyed.stderr.split("\n")[0]).toEndWith(`; the gw running as pid ${entry!.pid} serves its last good version → ${url} (1 routes it lists)`);
    expect(keyed.call!.env).toMatchObject({ ANTHROPIC_BASE_URL: url, ANTHROPIC_AUTH_TOKEN: "sk-started-with", ANTHROPIC_MODEL: "m" });
    // An edit gone wrong while it runs (gw keeps its running config): the same, found through the running gw.
    writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace("shutdown_grace_ms = 15000", 'shutdown_grace_ms = "oops"'));
    const broken = await box.run(["cp", "m", "-p", "hi"], { env: { ...registry, GW_API_KEY: "sk-started-with" } });
    expect(broken.stderr.split("\n")[0]).toContain(`; the gw running as pid ${entry!.pid} serves its last good version → ${url} (1 routes it lists)`);
    expect(broken.call!.env).toMatchObject({ ANTHROPIC_BASE_URL: url, ANTHROPIC_MODEL: "m" });
  });
});

describe("a key from the environment and a host that is not this machine", () => {
  const box = new CldSandbox();
  // A gateway on a v4-mapped IPv6 address: really this machine, but not one of the loopback
  // names gw knows — so it stands in for a remote host while the launch can still be observed.
  let hits = 0;
  const dual = Bun.serve({ hostname: "::", port: 0, fetch: () => (hits++, Response.json({ object: "list", data: [] })) }); // gw's model list, empty
  afterAll(() => dual.stop(true));
  const remote = (keys: string) => cldConfig(dual.port!, `api_keys = [${keys}]`).replace('host = "0.0.0.0"', 'host = "::ffff:127.0.0.1"');
  const confirmed = async (toml: string, dotenv?: string) => {
    const dir = checkout(box, toml, dotenv);
    const file = join(dir, "providers.toml");
    await rememberConfirmed(join(box.home, ".cache", "cld"), file, await fingerprint(file));
    return dir;
  };

  test("a confirmed checkout file may not send ${VAR} there; naming the file may", async () => {
    const dir = await confirmed(remote('"${SECRET}"'));
    const r = await box.run(["cp", "g3f", "-p", "hi"], { env: { SECRET }, cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`gw: providers.toml would send a key from your environment to http://[::ffff:127.0.0.1]:${dual.port}, which is not on this machine\n  name the file if you trust it: cld -c providers.toml …\n`);
    expect(r.call).toBeNull();
    expect(hits).toBe(0); // not even probed

    const named = await box.run(["cp", "-c", "providers.toml", "g3f", "-p", "hi"], { env: { SECRET }, cwd: dir });
    expect(named.stderr.split("\n")[0]).toBe(`cld: config providers.toml (-c) → http://[::ffff:127.0.0.1]:${dual.port}`); // then the launch line
    expect(named.call!.env).toMatchObject({ ANTHROPIC_AUTH_TOKEN: SECRET, ANTHROPIC_BASE_URL: `http://[::ffff:127.0.0.1]:${dual.port}` });
  });

  test("nor put ${VAR} into the address, even beside a key of its own", async () => {
    const dir = await confirmed(remote('"sk-the-files-own-key"').replace('host = "::ffff:127.0.0.1"', 'host = "${SECRET_HOST}"'));
    const before = hits;
    const r = await box.run(["cp", "g3f", "-p", "hi"], { env: { SECRET_HOST: "::ffff:127.0.0.1" }, cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`gw: providers.toml would send its address http://\${SECRET_HOST}:${dual.port} from your environment, which is not on this machine\n  name the file if you trust it: cld -c providers.toml …\n`);
    expect(r.call).toBeNull();
    expect(hits).toBe(before); // not even looked up or probed
  });

  test("a key the checkout brings itself (in the file or its .env) is not the user's: it may go", async () => {
    for (const dir of [await confirmed(remote('"sk-the-files-own-key"')), await confirmed(remote('"${FILE_KEY}"'), "FILE_KEY=sk-from-the-checkouts-env\n")]) {
      const r = await box.run(["cp", "g3f", "-p", "hi"], { env: { SECRET }, cwd: dir });
      expect(r.stderr.split("\n")[0]).toBe(`cld: config providers.toml (./providers.toml, confirmed before) → http://[::ffff:127.0.0.1]:${dual.port}`); // then the launch line
      expect(r.call!.env.ANTHROPIC_AUTH_TOKEN).toMatch(/^sk-(the-files-own-key|from-the-checkouts-env)$/);
    }
  });
});
