// cld as a child process against a fake claude: what the user types → what claude receives.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { YOLO_FLAG } from "../../src/cld/args.ts";
import { CldSandbox, cldConfig, closedPort, fakeGateway, removeSandboxes } from "../helpers/cld.ts";

setDefaultTimeout(60_000); // real processes on a shared 2-core machine
const gateway = fakeGateway();
afterAll(() => {
  gateway.stop(true);
  removeSandboxes();
});
const port = gateway.port!;

describe("cld cp with FILTER (fast start, no questions)", () => {
  const box = new CldSandbox();
  const toml = box.writeConfig("gw.toml", cldConfig(port, `api_keys = ["sk-first", "sk-second"]`));

  test("hands over to claude with the same PID, arguments untouched and in order; one launch line", async () => {
    const r = await box.run(["cp", "opus", "-p", "hi there", "--resume", "-y", "--model", ""], { env: { CLD_TOML: toml } });
    // Which config (always said), then what was launched. Nothing remembered: fast and opus from
    // the scenario whose main is opus4.6 (the built-in Performance).
    expect(r.stderr).toBe(
      `cld: config gw.toml ($CLD_TOML) → http://127.0.0.1:${port}\ncld: opus4.6 (200k context) · fast g3f (scenario Performance) · opus opus4.6 (scenario Performance) · http://127.0.0.1:${port}\n`,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("fake claude ran\n");
    expect(r.call!.pid).toBe(r.pid); // execve: claude took over our process
    expect(r.call!.argv).toEqual(["-p", "hi there", "--resume", YOLO_FLAG, "--model", ""]);
    expect(r.call!.env).toMatchObject({
      ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}`,
      ANTHROPIC_AUTH_TOKEN: "sk-first",
      ANTHROPIC_API_KEY: "",
      ANTHROPIC_MODEL: "opus4.6",
      ANTHROPIC_DEFAULT_HAIKU_MODEL: "g3f",
      CLAUDE_CODE_SUBAGENT_MODEL: "g3f",
      ANTHROPIC_DEFAULT_OPUS_MODEL: "opus4.6",
      CLAUDE_CODE_MAX_CONTEXT_TOKENS: "200000",
      CLAUDE_CONFIG_DIR: join(box.home, ".cache/cld/cp"),
    });
  });

  test("a piped prompt reaches claude whole: cld never reads stdin", async () => {
    const prompt = "line one\nline two\n".repeat(2000);
    const r = await box.run(["cp", "g3f", "-p"], { env: { CLD_TOML: toml }, stdin: prompt });
    expect(r.code).toBe(0);
    expect(box.claudeStdin()).toBe(prompt);
  });

  test("remembers the roles, and the next fast start keeps fast and opus", async () => {
    box.remember("cp", { fast: "g3f", opus: "opus4.6" });
    const first = await box.run(["cp", "KIMI"], { env: { CLD_TOML: toml } });
    expect(first.call!.env).toMatchObject({ ANTHROPIC_MODEL: "kimi-k2", ANTHROPIC_DEFAULT_HAIKU_MODEL: "g3f", ANTHROPIC_DEFAULT_OPUS_MODEL: "opus4.6" });
    expect(box.memory("cp")).toMatchObject({ main: "kimi-k2", fast: "g3f", opus: "opus4.6" });
    const second = await box.run(["cp", "g3p"], { env: { CLD_TOML: toml } });
    expect(second.call!.env).toMatchObject({ ANTHROPIC_MODEL: "g3p", CLAUDE_CODE_SUBAGENT_MODEL: "g3f", ANTHROPIC_DEFAULT_OPUS_MODEL: "opus4.6" });
  });

  test("memory lives under $XDG_CACHE_HOME when it is set", async () => {
    const xdg = join(box.dir, "xdg");
    const r = await box.run(["cp", "g3f"], { env: { CLD_TOML: toml, XDG_CACHE_HOME: xdg } });
    expect(r.call!.env.CLAUDE_CONFIG_DIR).toBe(join(xdg, "cld/cp"));
    expect(box.memory("cp", xdg).main).toBe("g3f");
  });

  test("proxies stay, with the gateway on loopback in NO_PROXY; a stale ANTHROPIC_AUTH_TOKEN or ANTHROPIC_API_KEY gives way to the gateway key", async () => {
    const user = { CLD_TOML: toml, HTTPS_PROXY: "http://proxy.corp:3128", NO_PROXY: ".corp", ANTHROPIC_AUTH_TOKEN: "old", ANTHROPIC_API_KEY: "mine" };
    const r = await box.run(["cp", "g3f"], { env: user });
    const noProxy = ".corp,127.0.0.1,localhost,::1";
    expect(r.call!.env).toMatchObject({ HTTPS_PROXY: "http://proxy.corp:3128", NO_PROXY: noProxy, no_proxy: noProxy, ANTHROPIC_AUTH_TOKEN: "sk-first", ANTHROPIC_API_KEY: "" });
    // A Claude Code of the builds that send every request to the proxy whatever NO_PROXY says: blanked.
    const old = new CldSandbox({ claudeVersion: "2.1.206" });
    const o = await old.run(["cp", "g3f"], { env: user });
    expect(o.call!.env).toMatchObject({ HTTPS_PROXY: "", HTTP_PROXY: "", ALL_PROXY: "", NO_PROXY: ".corp" });
  });

  test("the exit code is claude's", async () => {
    const r = await box.run(["cp", "g3f"], { env: { CLD_TOML: toml, FAKE_CLAUDE_EXIT: "7" } });
    expect(r.code).toBe(7);
  });

  test("a filter that matches nothing names the routes and falls back to the menus (here: no terminal to show them)", async () => {
    const r = await box.run(["cp", "nothing-like-it"], { env: { CLD_TOML: toml } });
    expect(r.stderr.split("\n").slice(0, 2)).toEqual([`cld: config gw.toml ($CLD_TOML) → http://127.0.0.1:${port}`, 'cld: no route matches "nothing-like-it" (routes: opus4.6, g3p, g3f, g3f.auto, kimi-k2); choose from the menus']);
    expect(r.stderr).toContain('no terminal to ask "Scenario"');
    expect(r.code).toBe(1);
    expect(r.call).toBeNull();
  });

  test("with the gateway's auto router on, FILTER auto makes it main", async () => {
    const routed = box.writeConfig("router.toml", cldConfig(port, `[global.lb_model_router]\nenabled = true\ndefault_model = "g3f"`));
    const r = await box.run(["cp", "auto"], { env: { CLD_TOML: routed } });
    expect(r.call!.env).toMatchObject({ ANTHROPIC_MODEL: "auto" });
  });
});

describe("where cp mode's config comes from", () => {
  const box = new CldSandbox();
  const other = closedPort();

  test("-c beats $CLD_TOML, which beats $GW_CONFIG, which beats ./providers.toml; each is named", async () => {
    const a = box.writeConfig("a.toml", cldConfig(port, `api_keys = ["from-a"]`));
    const b = box.writeConfig("b.toml", cldConfig(port, `api_keys = ["from-b"]`));
    const cwd = join(box.dir, "project");
    mkdirSync(cwd);
    writeFileSync(join(cwd, "providers.toml"), cldConfig(port, `api_keys = ["from-cwd"]`));
    const gwc = box.writeConfig("g.toml", cldConfig(port, `api_keys = ["from-gw-config"]`));
    const run = (args: string[], env: Record<string, string>) => box.run(args, { env, cwd });
    const flag = await run(["cp", "-c", b, "g3f"], { CLD_TOML: a, GW_CONFIG: gwc });
    expect(flag.call!.env.ANTHROPIC_AUTH_TOKEN).toBe("from-b");
    expect(flag.stderr.split("\n")[0]).toBe(`cld: config ${b} (-c) → http://127.0.0.1:${port}`);
    const cldToml = await run(["cp", "g3f"], { CLD_TOML: a, GW_CONFIG: gwc });
    expect(cldToml.call!.env.ANTHROPIC_AUTH_TOKEN).toBe("from-a");
    expect(cldToml.stderr).toContain("($CLD_TOML)");
    const gwConfig = await run(["cp", "g3f"], { GW_CONFIG: gwc });
    expect(gwConfig.call!.env.ANTHROPIC_AUTH_TOKEN).toBe("from-gw-config");
    expect(gwConfig.stderr).toContain("($GW_CONFIG)");
  });

  test("no api_keys: the old placeholder key; a host other than 0.0.0.0 is used as is", async () => {
    const toml = box.writeConfig("plain.toml", cldConfig(port).replace(`host = "0.0.0.0"`, `host = "127.0.0.1"`));
    const r = await box.run(["cp", "g3f"], { env: { CLD_TOML: toml } });
    expect(r.call!.env).toMatchObject({ ANTHROPIC_AUTH_TOKEN: "dummy-key", ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}` });
  });

  test("a broken config costs one warning line; the built-in routes still work", async () => {
    const toml = box.writeConfig("broken.toml", `[global]\nmain_port = "not a port"\n[routing]\n"x" = 3\n`);
    const r = await box.run(["cp", "g3p.auto", "-p", "x"], { env: { CLD_TOML: toml } });
    // the built-in gateway address is 8145, which may or may not be up here: either way one line
    expect(r.stderr.split("\n")[0]).toMatch(/^cld: .*broken\.toml: .+ \(\+\d+ more: gw check\); using the built-in routes and http:\/\/127\.0\.0\.1:8145$/);
    if (r.call) expect(r.call.env.ANTHROPIC_MODEL).toBe("g3p.auto");
    else expect(r.stderr).toContain(`is not answering; fix ${toml} first (gw check -c ${toml}), then start it with gw up -d -c ${toml}\n`); // a file that did not load starts no gw
  });

  test("a CLD_TOML that does not exist is named in the warning", async () => {
    const r = await box.run(["cp", "g3f"], { env: { CLD_TOML: join(box.dir, "nope.toml") } });
    expect(r.stderr.split("\n")[0]).toBe("cld: nope.toml: file not found; using the built-in routes and http://127.0.0.1:8145");
  });

  test("gateway down without a terminal: one line with how to start it (with the config cld read), claude not started", async () => {
    const toml = box.writeConfig("down.toml", cldConfig(other));
    const r = await box.run(["cp", "g3f", "-p", "hi"], { env: { CLD_TOML: toml } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cld: the gateway at http://127.0.0.1:${other} is not answering; start it with: gw up -d -c ${toml}\n`);
    expect(r.call).toBeNull();
    // -c FILE as the user gave it, relative or with spaces, comes back ready to paste.
    box.writeConfig("my gw.toml", cldConfig(other));
    const given = await box.run(["cp", "-c", "my gw.toml", "g3f", "-p", "hi"]);
    expect(given.stderr).toContain(`start it with: gw up -d -c 'my gw.toml'\n`);
  });
});

describe("a gateway on another machine (a team's gw on a server)", () => {
  const box = new CldSandbox();

  test("one that takes a moment to answer (across a VPN, another continent) is up: claude starts", async () => {
    // 700 ms for every answer, as a remote gw's first round trips take: more than a local one ever needs.
    const slow = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: async () => (await Bun.sleep(700), Response.json({ object: "list", data: [] })) });
    try {
      const toml = box.writeConfig("slow.toml", cldConfig(slow.port!, `api_keys = ["team-key"]`));
      const r = await box.run(["cp", "g3f", "-p", "hi"], { env: { CLD_TOML: toml } });
      expect([r.code, r.stderr]).toEqual([0, expect.not.stringContaining("not answering")]);
      expect(r.call!.env).toMatchObject({ ANTHROPIC_BASE_URL: `http://127.0.0.1:${slow.port}`, ANTHROPIC_AUTH_TOKEN: "team-key" });
    } finally {
      slow.stop(true);
    }
  });

  test("one that does not answer: the line says to look at that host, not to start gw here", async () => {
    const toml = box.writeConfig("remote.toml", cldConfig(8145, `api_keys = ["team-key"]`).replace(`host = "0.0.0.0"`, `host = "gw.invalid"`));
    const r = await box.run(["cp", "g3f", "-p", "hi"], { env: { CLD_TOML: toml } });
    expect(r.code).toBe(1);
    expect(r.call).toBeNull();
    expect(r.stderr).toContain("cld: the gateway at http://gw.invalid:8145 is not answering; it is not on this machine: check that gw runs there and that this machine reaches it (curl http://gw.invalid:8145/healthz)\n");
    expect(r.stderr).not.toContain("gw up");
  });
});

describe("what cld tells Claude Code about models", () => {
  const box = new CldSandbox();

  test("the main route's window from the catalogue or context_window; 200k for the built-in routes", async () => {
    const toml = box.writeConfig("w.toml", cldConfig(port).replace('model = "kimi-k2"', 'model = "kimi-k2", context_window = 131072'));
    const window = async (filter: string, env: Record<string, string>) => (await box.run(["cp", filter, "-p", "x"], { env })).call!.env.CLAUDE_CODE_MAX_CONTEXT_TOKENS;
    expect(await window("g3f", { CLD_TOML: toml })).toBe("1000000"); // gemini-3-flash
    expect(await window("opus", { CLD_TOML: toml })).toBe("200000"); // Claude without the context-1m beta
    expect(await window("kimi", { CLD_TOML: toml })).toBe("131072");
    const builtin = box.writeConfig("none.toml", `[global]\nmain_port = ${port}\n[instances.a]\nport = ${port + 1}\nproviders = [{ type = "antigravity" }]\n`);
    expect(await window("g3f", { CLD_TOML: builtin })).toBe("200000");
  });

  test("the running gateway's /v1/models window wins: it is what gw serves", async () => {
    const listing = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json({ data: [{ id: "g3f", max_input_tokens: 777_000 }] }) });
    try {
      const toml = box.writeConfig("listed.toml", cldConfig(listing.port!));
      const r = await box.run(["cp", "g3f", "-p", "x"], { env: { CLD_TOML: toml } });
      expect(r.call!.env.CLAUDE_CODE_MAX_CONTEXT_TOKENS).toBe("777000");
      expect(r.stderr).toContain("cld: g3f (777k context)");
    } finally {
      listing.stop(true);
    }
  });

  test("no scenario can launch and nothing remembered: fast is the cheapest route by catalogue price, said in the launch line", async () => {
    const toml = box.writeConfig("c.toml", `${cldConfig(port)}\n[cld.scenarios.Gone]\nmain = "opus9"\nfast = "g3f"\nopus = "opus9"\n`);
    const fresh = new CldSandbox();
    const r = await fresh.run(["cp", "opus", "-p", "x"], { env: { CLD_TOML: toml } });
    // kimi-k2 0.57 + 2.3 USD per million tokens beats gemini-3-flash 0.5 + 3.
    expect(r.call!.env).toMatchObject({ ANTHROPIC_MODEL: "opus4.6", ANTHROPIC_DEFAULT_HAIKU_MODEL: "kimi-k2", CLAUDE_CODE_SUBAGENT_MODEL: "kimi-k2", ANTHROPIC_DEFAULT_OPUS_MODEL: "opus4.6" });
    expect(r.stderr).toBe(`cld: config ${toml} ($CLD_TOML) → http://127.0.0.1:${port}\ncld: opus4.6 (200k context) · fast kimi-k2 (cheapest route) · opus opus4.6 (main) · http://127.0.0.1:${port}\n`);
  });
});

describe("Claude Code's config dir, ready before the first launch", () => {
  const box = new CldSandbox();
  const toml = box.writeConfig("gw.toml", cldConfig(port, `api_keys = ["sk-gateway-key-0123456789"]`));
  const cpDir = join(box.home, ".cache/cld/cp");
  const read = (dir: string) => JSON.parse(readFileSync(join(dir, ".claude.json"), "utf8"));

  test("onboarding done, the user's theme and trusted folders carried over, credentials and env not", async () => {
    writeFileSync(join(box.home, ".claude.json"), JSON.stringify({
      theme: "light-daltonized", editorMode: "vim", primaryApiKey: "sk-ant-users-own", oauthAccount: { emailAddress: "u@x" }, env: { ANTHROPIC_BASE_URL: "https://elsewhere" },
      projects: { "/work/trusted": { hasTrustDialogAccepted: true, allowedTools: ["Bash"] }, "/work/not": { hasTrustDialogAccepted: false } },
    }));
    await box.run(["cp", "g3f", "-p", "x"], { env: { CLD_TOML: toml } });
    const c = read(cpDir);
    expect(c).toMatchObject({ hasCompletedOnboarding: true, theme: "light-daltonized", editorMode: "vim", projects: { "/work/trusted": { hasTrustDialogAccepted: true } } });
    for (const k of ["primaryApiKey", "oauthAccount", "env"]) expect(c[k]).toBeUndefined();
    expect(c.projects["/work/not"]).toBeUndefined();
    expect(c.projects["/work/trusted"].allowedTools).toBeUndefined();
  });

  test("merged into what Claude Code wrote there, the user's later choices kept; a key refused earlier is forgiven; nothing rewritten when ready", async () => {
    const file = join(cpDir, ".claude.json");
    writeFileSync(file, JSON.stringify({ theme: "dark", numStartups: 7, hasCompletedOnboarding: true, customApiKeyResponses: { approved: [], rejected: ["teway-key-0123456789", "other"] } })); // Claude Code keeps a key's last 20 characters
    await box.run(["cp", "g3f", "-p", "x"], { env: { CLD_TOML: toml } });
    expect(read(cpDir)).toMatchObject({ theme: "dark", numStartups: 7, editorMode: "vim", customApiKeyResponses: { approved: [], rejected: ["other"] } });
    const before = statSync(file).mtimeMs;
    const text = readFileSync(file, "utf8");
    await box.run(["cp", "g3f", "-p", "x"], { env: { CLD_TOML: toml } });
    expect(readFileSync(file, "utf8")).toBe(text);
    expect(statSync(file).mtimeMs).toBe(before);
  });

  test("a config dir file that does not parse is left for Claude Code to repair", async () => {
    const file = join(cpDir, ".claude.json");
    writeFileSync(file, "{ half");
    const r = await box.run(["cp", "g3f", "-p", "x"], { env: { CLD_TOML: toml } });
    expect(r.code).toBe(0);
    expect(readFileSync(file, "utf8")).toBe("{ half");
  });

  test("ag: the Antigravity token is approved in advance, onboarding done", async () => {
    await box.run(["ag", "-p", "x"], { env: { ANTI_API_TOKEN: "ag-token-abcdefghijklmnopqrstuvwxyz", ANTI_API_BASE: `http://127.0.0.1:${port}/v1` } });
    expect(read(join(box.home, ".cache/cld/ag"))).toMatchObject({ hasCompletedOnboarding: true, customApiKeyResponses: { approved: ["ghijklmnopqrstuvwxyz"], rejected: [] } });
  });
});

describe("cld --resume ID (Claude Code's exit hint under cld)", () => {
  const box = new CldSandbox();
  const toml = box.writeConfig("gw.toml", cldConfig(port));

  test("resumes in the mode whose config dir holds the session, as last launched, asking nothing", async () => {
    const id = "0b0e7a52-5c1f-4a57-9e0e-1d2f3a4b5c6d";
    mkdirSync(join(box.home, ".cache/cld/cp/projects/-work-app"), { recursive: true });
    writeFileSync(join(box.home, ".cache/cld/cp/projects/-work-app", `${id}.jsonl`), "{}\n");
    box.remember("cp", { main: "g3p", fast: "g3f", opus: "opus4.6", scenario: "Economy" });
    const r = await box.run(["--resume", id], { env: { CLD_TOML: toml } });
    expect(r.code).toBe(0);
    expect(r.call!.argv).toEqual(["--resume", id]);
    expect(r.call!.env).toMatchObject({ ANTHROPIC_MODEL: "g3p", ANTHROPIC_DEFAULT_HAIKU_MODEL: "g3f", CLAUDE_CODE_RESUME_HINT_COMMAND: "cld" });
    // A session cld does not hold: the usual mode question (here: no terminal to ask it on).
    const other = await box.run(["--resume", "9f9f9f9f-0000-4000-8000-000000000000"], { env: { CLD_TOML: toml } });
    expect(other.stderr).toContain('no terminal to ask "Mode" on');
  });

  test("Claude Code before 2.1.323 names itself in its hint: cld stays the parent and adds the cld command after it", async () => {
    const old = new CldSandbox({ claudeVersion: "2.1.197" });
    const id = "5e55a0e0-1111-4222-8333-944445555666";
    const r = await old.run(["cp", "g3f"], { env: { CLD_TOML: toml, FAKE_CLAUDE_SESSION: id, FAKE_CLAUDE_EXIT: "3" } });
    expect(r.code).toBe(3);
    expect(r.call!.pid).not.toBe(r.pid); // spawned, not exec'd
    expect(r.stderr.split("\n").at(-2)).toBe(`cld: resume it through the gateway with: cld --resume ${id}`);
    // Print mode has no hint to follow: exec as usual. A current Claude Code prints cld's own hint: exec.
    const print = await old.run(["cp", "g3f", "-p", "x"], { env: { CLD_TOML: toml, FAKE_CLAUDE_SESSION: id } });
    expect(print.call!.pid).toBe(print.pid);
    const current = new CldSandbox({ claudeVersion: "2.1.332" });
    const now = await current.run(["cp", "g3f"], { env: { CLD_TOML: toml, FAKE_CLAUDE_SESSION: id } });
    expect(now.call!.pid).toBe(now.pid);
    expect(now.stderr).not.toContain("resume");
  });

  test("ag and official: the hint names cld too, and cld --resume ID finds the session's mode (ag's dir, the user's own ~/.claude)", async () => {
    const ag = { ANTI_API_TOKEN: "tok", ANTI_API_BASE: `http://127.0.0.1:${port}/v1` };
    for (const [mode, id, env, via] of [["ag", "a9a9a9a9-1111-4222-8333-944445555666", ag, "Antigravity"], ["official", "0f0f0f0f-1111-4222-8333-944445555666", {}, "Anthropic"]] as const) {
      const current = new CldSandbox({ claudeVersion: "2.1.332" });
      const now = await current.run([mode], { env: { ...env, FAKE_CLAUDE_SESSION: id } });
      expect([now.call!.env.CLAUDE_CODE_RESUME_HINT_COMMAND, now.call!.pid]).toEqual(["cld", now.pid]); // Claude Code says cld --resume ID itself
      const back = await current.run(["--resume", id], { env });
      expect([back.code, back.call!.argv, back.stderr]).toEqual([0, ["--resume", id], ""]); // no mode question
      expect(back.call!.env.ANTHROPIC_API_KEY).toBe(mode === "ag" ? "tok" : undefined);
      // Claude Code before 2.1.323 says `claude --resume ID`: cld adds the way back in
      const old = new CldSandbox({ claudeVersion: "2.1.197" });
      const before = await old.run([mode], { env: { ...env, FAKE_CLAUDE_SESSION: id } });
      expect(before.stderr.split("\n").at(-2)).toBe(`cld: resume it through ${via} with: cld --resume ${id}`);
    }
  });
  test("a session in two modes' dirs (a file copied across to go on elsewhere) resumes where it was written last: where the exit hint came from", async () => {
    const id = "c0c0c0c0-1111-4222-8333-944445555666";
    const copied = join(box.home, ".cache/cld/cp/projects/-w");
    mkdirSync(copied, { recursive: true });
    writeFileSync(join(copied, `${id}.jsonl`), "{}\n");
    utimesSync(join(copied, `${id}.jsonl`), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    box.remember("cp", { main: "g3p", fast: "g3f", opus: "opus4.6", scenario: "Economy" });
    await box.run(["official", "--resume", id], { env: { FAKE_CLAUDE_SESSION: id } }); // goes on in the user's own ~/.claude
    const back = await box.run(["--resume", id], { env: { CLD_TOML: toml } });
    expect(back.code).toBe(0);
    expect(back.call!.env.ANTHROPIC_BASE_URL).toBeUndefined(); // official: not the gateway, whose copy lacks the last turns
    expect(back.call!.env.CLAUDE_CONFIG_DIR).toBeUndefined();
  });
});

describe("the other modes and failures", () => {
  const box = new CldSandbox();

  test("ag: Antigravity base, token and model variables, with overrides", async () => {
    const base = `http://127.0.0.1:${port}/v1`; // a stand-in for the proxy (policy.test.ts: its default address)
    const r = await box.run(["ag", "-p", "hi"], { env: { ANTI_API_TOKEN: "tok", ANTI_API_BASE: base, CLD_AG_FAST_MODEL: "flash-x" } });
    expect(r.call!.argv).toEqual(["-p", "hi"]);
    expect(r.call!.env).toMatchObject({
      ANTHROPIC_BASE_URL: base.slice(0, -3), ANTHROPIC_API_KEY: "tok", ANTHROPIC_MODEL: "claude-opus-4-6-thinking", // Claude Code adds /v1/messages itself
      ANTHROPIC_DEFAULT_OPUS_MODEL: "gemini-3-pro-high", ANTHROPIC_DEFAULT_HAIKU_MODEL: "flash-x", CLAUDE_CODE_SUBAGENT_MODEL: "flash-x",
      CLAUDE_CONFIG_DIR: join(box.home, ".cache/cld/ag"),
    });
  });

  test("ag with no proxy listening says so at once, instead of Claude Code retrying in silence", async () => {
    const base = `http://127.0.0.1:${closedPort()}/v1`;
    const r = await box.run(["ag", "-p", "hi"], { env: { ANTI_API_TOKEN: "tok", ANTI_API_BASE: base } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`: the Antigravity proxy at ${base} is not answering`);
    expect(r.stderr).toContain("start it, or point ANTI_API_BASE at where it listens");
    expect(r.call).toBeNull();
  });

  test("ag without ANTI_API_TOKEN says what to set", async () => {
    const r = await box.run(["ag"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ANTI_API_TOKEN");
    expect(r.call).toBeNull();
  });

  test("official injects nothing: the user's key and proxy (the way out to Anthropic) as they are", async () => {
    const r = await box.run(["official", "--resume", "-y"], { env: { ANTHROPIC_API_KEY: "users-own", HTTP_PROXY: "http://proxy.corp:3128" } });
    expect(r.call!.argv).toEqual(["--resume", YOLO_FLAG]);
    expect(r.call!.env.ANTHROPIC_API_KEY).toBe("users-own");
    expect(r.call!.env.HTTP_PROXY).toBe("http://proxy.corp:3128");
    expect(r.call!.env.NO_PROXY).toBeUndefined();
    for (const k of ["ANTHROPIC_BASE_URL", "ANTHROPIC_MODEL", "CLAUDE_CONFIG_DIR", "CLAUDE_CODE_SUBAGENT_MODEL"]) expect(r.call!.env[k]).toBeUndefined();
  });

  test("claude missing: one line with the install command, before any question", async () => {
    const bare = new CldSandbox({ noClaude: true });
    const r = await bare.run(["cp"]);
    expect(r.code).toBe(127);
    expect(r.stderr).toBe("gw: claude (Claude Code) is not on PATH; install it: npm install -g @anthropic-ai/claude-code\n");
  });

  test("$GW_API_KEY picks the user's own key among the config's api_keys (on the team's server); one it does not list is not sent", async () => {
    const toml = box.writeConfig("keys.toml", cldConfig(port, 'api_keys = ["sk-first-key-000000", "sk-carol-key-111111"]').replace('host = "0.0.0.0"', 'host = "127.0.0.1"'));
    const mine = await box.run(["cp", "g3f", "-p", "hi"], { env: { CLD_TOML: toml, GW_API_KEY: "sk-carol-key-111111" } });
    expect(mine.call!.env.ANTHROPIC_AUTH_TOKEN).toBe("sk-carol-key-111111");
    const other = await box.run(["cp", "g3f", "-p", "hi"], { env: { CLD_TOML: toml, GW_API_KEY: "sk-not-this-gws-key" } });
    expect(other.call!.env.ANTHROPIC_AUTH_TOKEN).toBe("sk-first-key-000000");
  });

  test("--version (alone) is gw's version, no menu and no claude; with a mode it is Claude Code's flag", async () => {
    for (const flag of ["--version", "-v"]) {
      const r = await box.run([flag]);
      expect([r.code, r.stdout.trim()]).toEqual([0, (await import("../../package.json")).version]);
      expect(r.stderr).toBe("cld is gw; Claude Code's version: cld official --version\n");
      expect(r.call).toBeNull();
    }
    const official = await box.run(["official", "--version"]);
    expect(official.stdout).toContain("(Claude Code)"); // the fake claude answers --version unrecorded
  });

  test("a cache folder that cannot be made: one line naming it and the fix, no stack trace (cp and ag alike)", async () => {
    const blocked = join(box.dir, "cache-is-a-file");
    writeFileSync(blocked, "not a folder\n");
    for (const args of [["cp", "g3f", "-p", "hi"], ["ag", "-p", "hi"]]) {
      const r = await box.run(args, { env: { XDG_CACHE_HOME: blocked, ANTI_API_TOKEN: "tok", ANTI_API_BASE: `http://127.0.0.1:${port}` } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`gw: cannot make ${blocked}/cld/${args[0]} (ENOTDIR), where Claude Code and the other agents keep their sessions\n  point $XDG_CACHE_HOME at a folder you can write\n`);
      expect(r.stderr).not.toContain("    at ");
      expect(r.call).toBeNull();
    }
  });

  test("no mode and no terminal (fzf missing or not): a clear line instead of a hang", async () => {
    for (const b of [box, new CldSandbox({ tools: ["fzf"] })]) {
      const r = await b.run([]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('no terminal to ask "Mode" on');
      expect(r.stderr).toContain("cld cp FILTER");
    }
  });

  test("-h prints cld's help and starts nothing", async () => {
    const r = await box.run(["cp", "-h"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("usage: cld [cp|ag|official] [FILTER]");
    expect(r.call).toBeNull();
  });
});
