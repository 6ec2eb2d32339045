// cld as a child process against a fake claude: what the user types → what claude receives.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
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

  test("hands over to claude with the same PID, arguments untouched and in order", async () => {
    const r = await box.run(["cp", "opus", "-p", "hi there", "--resume", "-y", "--model", ""], { env: { CLD_TOML: toml } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("fake claude ran\n");
    expect(r.call!.pid).toBe(r.pid); // execve: claude took over our process
    expect(r.call!.argv).toEqual(["-p", "hi there", "--resume", YOLO_FLAG, "--model", ""]);
    expect(r.call!.env).toMatchObject({
      ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}`,
      ANTHROPIC_API_KEY: "sk-first",
      ANTHROPIC_MODEL: "opus4.6",
      ANTHROPIC_DEFAULT_HAIKU_MODEL: "opus4.6",
      CLAUDE_CODE_SUBAGENT_MODEL: "opus4.6",
      ANTHROPIC_DEFAULT_OPUS_MODEL: "opus4.6",
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

  test("proxies and ANTHROPIC_AUTH_TOKEN are blanked for claude", async () => {
    const r = await box.run(["cp", "g3f"], { env: { CLD_TOML: toml, HTTPS_PROXY: "http://127.0.0.1:1", ANTHROPIC_AUTH_TOKEN: "old" } });
    expect(r.call!.env).toMatchObject({ HTTPS_PROXY: "", HTTP_PROXY: "", ALL_PROXY: "", ANTHROPIC_AUTH_TOKEN: "" });
  });

  test("the exit code is claude's", async () => {
    const r = await box.run(["cp", "g3f"], { env: { CLD_TOML: toml, FAKE_CLAUDE_EXIT: "7" } });
    expect(r.code).toBe(7);
  });

  test("a filter that matches nothing names the routes and falls back to the menus (here: no terminal to show them)", async () => {
    const r = await box.run(["cp", "nothing-like-it"], { env: { CLD_TOML: toml } });
    expect(r.stderr.split("\n")[0]).toBe('cld: no route matches "nothing-like-it" (routes: opus4.6, g3p, g3f, g3f.auto, kimi-k2); choose from the menus');
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

  test("CLD_TOML beats -c, which beats ./providers.toml, which beats $GW_CONFIG", async () => {
    const a = box.writeConfig("a.toml", cldConfig(port, `api_keys = ["from-a"]`));
    const b = box.writeConfig("b.toml", cldConfig(port, `api_keys = ["from-b"]`));
    const cwd = join(box.dir, "project");
    mkdirSync(cwd);
    writeFileSync(join(cwd, "providers.toml"), cldConfig(port, `api_keys = ["from-cwd"]`));
    const gwc = box.writeConfig("g.toml", cldConfig(port, `api_keys = ["from-gw-config"]`));
    const key = async (args: string[], env: Record<string, string>, dir = cwd) => (await box.run(args, { env, cwd: dir })).call!.env.ANTHROPIC_API_KEY;
    expect(await key(["cp", "-c", b, "g3f"], { CLD_TOML: a, GW_CONFIG: gwc })).toBe("from-a");
    expect(await key(["cp", "-c", b, "g3f"], { GW_CONFIG: gwc })).toBe("from-b");
    expect(await key(["cp", "g3f"], { GW_CONFIG: gwc })).toBe("from-cwd");
    expect(await key(["cp", "g3f"], { GW_CONFIG: gwc }, box.dir)).toBe("from-gw-config");
  });

  test("no api_keys: the old placeholder key; a host other than 0.0.0.0 is used as is", async () => {
    const toml = box.writeConfig("plain.toml", cldConfig(port).replace(`host = "0.0.0.0"`, `host = "127.0.0.1"`));
    const r = await box.run(["cp", "g3f"], { env: { CLD_TOML: toml } });
    expect(r.call!.env).toMatchObject({ ANTHROPIC_API_KEY: "dummy-key", ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}` });
  });

  test("a broken config costs one warning line; the built-in routes still work", async () => {
    const toml = box.writeConfig("broken.toml", `[global]\nmain_port = "not a port"\n[routing]\n"x" = 3\n`);
    const r = await box.run(["cp", "g3p.auto", "-p", "x"], { env: { CLD_TOML: toml } });
    // the built-in gateway address is 8145, which may or may not be up here: either way one line
    expect(r.stderr.split("\n")[0]).toMatch(/^cld: .*broken\.toml: .+ \(\+\d+ more: gw check\); using the built-in routes and http:\/\/127\.0\.0\.1:8145$/);
    if (r.call) expect(r.call.env.ANTHROPIC_MODEL).toBe("g3p.auto");
    else expect(r.stderr).toContain("gw up -d");
  });

  test("a CLD_TOML that does not exist is named in the warning", async () => {
    const r = await box.run(["cp", "g3f"], { env: { CLD_TOML: join(box.dir, "nope.toml") } });
    expect(r.stderr.split("\n")[0]).toBe(`cld: ${join(box.dir, "nope.toml")}: file not found; using the built-in routes and http://127.0.0.1:8145`);
  });

  test("gateway down without a terminal: one line with how to start it, claude not started", async () => {
    const toml = box.writeConfig("down.toml", cldConfig(other));
    const r = await box.run(["cp", "g3f", "-p", "hi"], { env: { CLD_TOML: toml } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cld: the gateway at http://127.0.0.1:${other} is not answering; start it with: gw up -d`);
    expect(r.call).toBeNull();
  });
});

describe("the other modes and failures", () => {
  const box = new CldSandbox();

  test("ag: Antigravity base, token and model variables, with overrides", async () => {
    const r = await box.run(["ag", "-p", "hi"], { env: { ANTI_API_TOKEN: "tok", CLD_AG_FAST_MODEL: "flash-x" } });
    expect(r.call!.argv).toEqual(["-p", "hi"]);
    expect(r.call!.env).toMatchObject({
      ANTHROPIC_BASE_URL: "http://127.0.0.1:8045/v1", ANTHROPIC_API_KEY: "tok", ANTHROPIC_MODEL: "claude-opus-4-6-thinking",
      ANTHROPIC_DEFAULT_OPUS_MODEL: "gemini-3-pro-high", ANTHROPIC_DEFAULT_HAIKU_MODEL: "flash-x", CLAUDE_CODE_SUBAGENT_MODEL: "flash-x",
      CLAUDE_CONFIG_DIR: join(box.home, ".cache/cld/ag"),
    });
  });

  test("ag without ANTI_API_TOKEN says what to set", async () => {
    const r = await box.run(["ag"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ANTI_API_TOKEN");
    expect(r.call).toBeNull();
  });

  test("official injects nothing", async () => {
    const r = await box.run(["official", "--resume", "-y"], { env: { ANTHROPIC_API_KEY: "users-own", HTTP_PROXY: "http://127.0.0.1:1" } });
    expect(r.call!.argv).toEqual(["--resume", YOLO_FLAG]);
    expect(r.call!.env.ANTHROPIC_API_KEY).toBe("users-own");
    expect(r.call!.env.HTTP_PROXY).toBe("");
    for (const k of ["ANTHROPIC_BASE_URL", "ANTHROPIC_MODEL", "CLAUDE_CONFIG_DIR", "CLAUDE_CODE_SUBAGENT_MODEL"]) expect(r.call!.env[k]).toBeUndefined();
  });

  test("claude missing: one line with the install command, before any question", async () => {
    const bare = new CldSandbox({ noClaude: true });
    const r = await bare.run(["cp"]);
    expect(r.code).toBe(127);
    expect(r.stderr).toBe("gw: claude (Claude Code) is not on PATH; install it: npm install -g @anthropic-ai/claude-code\n");
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
