// cld on a real terminal: tmux drives real fzf (or the numbered picker) with keystrokes.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { CldSandbox, cldConfig, closedPort, fakeGateway, MAIN, removeSandboxes } from "../helpers/cld.ts";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inPane, type TmuxPane } from "./tmux-pane.ts";

setDefaultTimeout(60_000); // real processes on a shared 2-core machine
const gateway = fakeGateway();
afterAll(() => {
  gateway.stop(true);
  removeSandboxes();
});
const CLD = [process.execPath, MAIN, "cld"];

/** Type a query into fzf and press Enter once fzf shows it narrowed the list to one line. */
async function choose(t: TmuxPane, query: string) {
  await t.send("-l", query);
  await t.waitFor(/ 1\/\d+ /);
  await t.send("Enter");
}

/** Run cld in a tmux pane, let `drive` answer the questions, return the screen at the end. */
const interactive = (box: CldSandbox, args: string[], env: Record<string, string>, drive: (t: TmuxPane) => Promise<void>, argv = [...CLD, ...args]) =>
  inPane(box, argv, env, drive);

describe("with fzf", () => {
  const box = new CldSandbox({ tools: ["fzf", "tmux"] });
  const env = { CLD_TOML: box.writeConfig("gw.toml", cldConfig(gateway.port!)) };

  test("a scenario, then Auto Upgrade On: main becomes the .auto route", async () => {
    const r = await interactive(box, ["cp", "-p", "hi"], env, async (t) => {
      const menu = await t.waitFor("Scenario>");
      expect(menu).toContain("Balanced     main=g3f  fast=g3f  opus=opus4.6");
      await choose(t, "Balanced");
      await t.waitFor(/> On\s+main = g3f\.auto/);
      await t.send("Enter");
    });
    expect(r.screen).toContain("fake claude ran");
    expect(r.call!.argv).toEqual(["-p", "hi"]);
    expect(r.call!.env).toMatchObject({
      ANTHROPIC_MODEL: "g3f.auto", ANTHROPIC_DEFAULT_HAIKU_MODEL: "g3f", CLAUDE_CODE_SUBAGENT_MODEL: "g3f", ANTHROPIC_DEFAULT_OPUS_MODEL: "opus4.6",
    });
    // -p answers and exits: the window is not renamed (tmux would keep the name after it)
    expect(r.window).not.toStartWith("cld cp");
    expect(box.memory("cp")).toEqual({ main: "g3f.auto", fast: "g3f", opus: "opus4.6", scenario: "Balanced", auto_upgrade: "On" });
  });

  test("cld opus (the mode left out) with cp chosen: a route's exact name is the route, not Claude Code's first prompt; any other word stays the prompt", async () => {
    // A box of its own: what it remembers is not the other tests' last choice.
    const box = new CldSandbox({ tools: ["fzf", "tmux"] });
    const env = { CLD_TOML: box.writeConfig("gw.toml", cldConfig(gateway.port!)) };
    const routeWord = await interactive(box, ["opus4.6"], env, async (t) => {
      await t.waitFor("Mode>");
      await choose(t, "gw gateway");
    });
    expect(routeWord.screen).toContain('"opus4.6" is a route: launching as cld cp opus4.6 (to give Claude Code that word as its prompt: cld -- opus4.6)');
    expect(routeWord.call!.argv.filter((a) => a !== "")).toEqual([]); // (the fake records no arguments as one empty one)
    expect(routeWord.call!.env).toMatchObject({ ANTHROPIC_MODEL: "opus4.6" });
    const prompt = await interactive(box, ["opus", "-p"], env, async (t) => {
      await t.waitFor("Mode>");
      await choose(t, "gw gateway");
      await t.waitFor("Scenario>");
      await t.send("Escape");
    });
    expect(prompt.call!.argv).toEqual(["opus", "-p"]); // "opus" names no route exactly: the menus chose, the word is claude's
  });

  test("Esc on the scenario menu launches exactly as last time; the window is named after it", async () => {
    const r = await interactive(box, ["cp"], env, async (t) => {
      expect(await t.waitFor("Scenario>")).toContain("Esc: Balanced (last)");
      await t.send("Escape");
    });
    expect(r.call!.env).toMatchObject({ ANTHROPIC_MODEL: "g3f.auto", ANTHROPIC_DEFAULT_OPUS_MODEL: "opus4.6" });
    expect(r.window).toBe("cld cp g3f.auto"); // a session: the window names it
  });

  test("Performance has no .auto twin for opus4.6: no upgrade question", async () => {
    const r = await interactive(box, ["cp"], env, async (t) => {
      await t.waitFor("> Performance");
      await t.send("Enter");
    });
    expect(r.call!.env).toMatchObject({ ANTHROPIC_MODEL: "opus4.6", ANTHROPIC_DEFAULT_HAIKU_MODEL: "g3f", ANTHROPIC_DEFAULT_OPUS_MODEL: "opus4.6" });
    expect(box.memory("cp")).toMatchObject({ scenario: "Performance" });
  });

  test("Custom asks for each role; Esc on a role keeps the last one", async () => {
    const r = await interactive(box, ["cp"], env, async (t) => {
      await t.waitFor("Scenario>");
      await choose(t, "Custom");
      await t.waitFor("main route>");
      await choose(t, "kimi");
      await t.waitFor("fast route>");
      await choose(t, "g3p");
      await t.waitFor("opus route>");
      await t.send("Escape");
    });
    expect(r.call!.env).toMatchObject({ ANTHROPIC_MODEL: "kimi-k2", ANTHROPIC_DEFAULT_HAIKU_MODEL: "g3p", ANTHROPIC_DEFAULT_OPUS_MODEL: "opus4.6" });
  });

  test("Auto Upgrade Off keeps the plain route", async () => {
    const r = await interactive(box, ["cp"], env, async (t) => {
      await t.waitFor("Scenario>");
      await choose(t, "Economy");
      await t.waitFor(/^  Off\s+main = g3f$/m);
      await t.send("Down");
      await t.waitFor(/> Off\s+main = g3f$/m);
      await t.send("Enter");
    });
    expect(r.call!.env).toMatchObject({ ANTHROPIC_MODEL: "g3f", ANTHROPIC_DEFAULT_OPUS_MODEL: "g3p" });
    expect(box.memory("cp").auto_upgrade).toBe("Off");
  });

  test("after a FILTER launch, Esc on the menu is named as what it launches (that launch's routes), and launches it", async () => {
    const filtered = await box.run(["cp", "kimi", "-p", "hi"], { env });
    expect(filtered.call!.env.ANTHROPIC_MODEL).toBe("kimi-k2");
    const r = await interactive(box, ["cp"], env, async (t) => {
      const menu = await t.waitFor("Scenario>");
      expect(menu).toMatch(/Esc: main=kimi-k2 {2}fast=\S+ {2}opus=\S+ \(last\)/);
      expect(menu).not.toMatch(/^[> ] \w+ +main=.*\(last\)$/m); // no scenario line marked as the last one
      await t.send("Escape");
    });
    expect(r.call!.env.ANTHROPIC_MODEL).toBe("kimi-k2");
    expect(r.screen).not.toContain("· scenario ");
  });

  test("stderr sent elsewhere (2>/dev/null): the menu is still drawn on the terminal", async () => {
    const r = await interactive(box, [], env, async (t) => {
      await t.waitFor("> Performance");
      await t.send("Enter");
    }, ["/bin/sh", "-c", 'exec "$0" "$@" 2>/dev/null', ...CLD, "cp", "-p", "hi"]);
    expect(r.call!.env).toMatchObject({ ANTHROPIC_MODEL: "opus4.6" });
  });

  test("cld stopped by SIGTERM while its menu is open: the menu goes too", async () => {
    const r = await interactive(box, ["cp"], env, async (t) => {
      await t.waitFor("> Performance");
      const programs = await t.programs();
      const cld = programs.find((p) => p.comm !== "sh" && p.comm !== "fzf")!; // bun, under whatever name it runs
      expect(programs.some((p) => p.comm === "fzf")).toBe(true);
      process.kill(cld.pid, "SIGTERM");
      await t.waitFor("[exit 143]");
      let left = programs;
      for (const deadline = Date.now() + 10_000; Date.now() < deadline && left.some((p) => p.comm === "fzf"); await Bun.sleep(50)) left = await t.programs();
      expect(left.map((p) => p.comm)).not.toContain("fzf");
    });
    expect(r.call).toBeNull();
  });

  test("Ctrl-C quits without starting claude", async () => {
    const r = await interactive(box, ["cp"], env, async (t) => {
      await t.waitFor("> Performance");
      await t.send("C-c");
    });
    expect(r.screen).toContain("[exit 130]");
    expect(r.call).toBeNull();
  });
});

describe("mode menu and scenarios from [cld.scenarios]", () => {
  const box = new CldSandbox({ tools: ["fzf", "tmux"] });
  const scenarios = `\n[cld.scenarios.Kimi]\nmain = "kimi-k2"\nfast = "g3f"\nopus = "g3p"\n[cld.scenarios.Stale]\nmain = "opus4.5"\nfast = "g3f"\nopus = "opus4.5"\n`;
  const env = { CLD_TOML: box.writeConfig("gw.toml", cldConfig(gateway.port!) + scenarios) };

  test("no mode: fzf offers the three modes, then the configured scenarios replace the built-in ones; one naming a missing route is left out", async () => {
    const r = await interactive(box, [], env, async (t) => {
      expect(await t.waitFor("> cp")).toContain("official");
      await t.send("Enter");
      const menu = await t.waitFor(/> Kimi\s+main=kimi-k2/);
      expect(menu).not.toContain("Balanced");
      expect(await t.waitFor("Custom")).not.toContain("Stale");
      await t.send("Enter");
    });
    expect(r.call!.env).toMatchObject({ ANTHROPIC_MODEL: "kimi-k2", ANTHROPIC_DEFAULT_HAIKU_MODEL: "g3f", ANTHROPIC_DEFAULT_OPUS_MODEL: "g3p" });
    expect(box.memory("cp").scenario).toBe("Kimi");
  });

  test("bare cld, Esc in the mode menu with no last mode: one line saying how to name the mode, exit 130, nothing launched", async () => {
    const fresh = new CldSandbox({ tools: ["fzf", "tmux"] });
    const r = await interactive(fresh, [], env, async (t) => {
      expect(await t.waitFor("Mode>")).toContain("Esc: cancel");
      await t.send("Escape");
    });
    expect(r.call).toBeNull();
    expect(r.screen).toContain("[exit 130]");
    // gw: as the test runs it (gw cld); a cld link says cld:
    expect(r.screen).toContain("gw: no mode chosen — name one to skip the menu: cld cp · cld ag · cld official\n[exit 130]");
  });

  test("a launch remembered from another config (routes this one lacks) is not offered on Esc, nor a role route it lacks", async () => {
    box.remember("cp", { main: "opus4.5", fast: "g3f", opus: "opus4.5", scenario: "Stale" });
    const r = await interactive(box, ["cp"], env, async (t) => {
      const menu = await t.waitFor("Scenario>");
      expect(menu).toContain("Esc: cancel");
      expect(menu).not.toContain("(last)");
      await choose(t, "Custom");
      expect(await t.waitFor("main route>")).toContain("Esc: cancel"); // opus4.5 is no route here
      await choose(t, "kimi");
      expect(await t.waitFor("fast route>")).toContain("Esc: g3f (last)");
      await t.send("Escape");
      await t.waitFor("opus route>");
      await t.send("Escape"); // nothing to keep: cancelled, nothing launched on a route the gateway lacks
    });
    expect(r.call).toBeNull();
    expect(r.screen).toContain("no opus route chosen");
  });
});

describe("without fzf: the numbered picker", () => {
  const box = new CldSandbox({ tools: ["tmux"] });
  const env = { CLD_TOML: box.writeConfig("gw.toml", cldConfig(gateway.port!)) };

  test("mode, scenario and upgrade by number", async () => {
    const r = await interactive(box, ["--resume"], env, async (t) => {
      await t.waitFor("Pick 1-3:");
      await t.send("1", "Enter");
      const menu = await t.waitFor("Pick 1-4:");
      expect(menu).toContain(" 3) Economy      main=g3f  fast=g3f  opus=g3p");
      await t.send("3", "Enter");
      await t.waitFor("Auto Upgrade:");
      await t.send("2", "Enter");
    });
    expect(r.call!.argv).toEqual(["--resume"]);
    expect(r.call!.env).toMatchObject({ ANTHROPIC_MODEL: "g3f", ANTHROPIC_DEFAULT_OPUS_MODEL: "g3p" });
  });

  test("Enter alone reuses the last mode and the last launch", async () => {
    const r = await interactive(box, [], env, async (t) => {
      await t.waitFor("Pick 1-3 [Enter: cp]:");
      await t.send("Enter");
      await t.waitFor("Pick 1-4 [Enter: Economy]:");
      await t.send("Enter");
    });
    expect(r.call!.env).toMatchObject({ ANTHROPIC_MODEL: "g3f", ANTHROPIC_DEFAULT_OPUS_MODEL: "g3p" });
  });
});

describe("another server where the gateway should be", () => {
  const box = new CldSandbox({ tools: ["tmux"] });
  const other = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("404 page not found", { status: 404 }) });
  afterAll(() => other.stop(true));
  const env = { CLD_TOML: box.writeConfig("gw.toml", cldConfig(other.port!)) };

  test("without a terminal: one line that says it is not gw, and claude is not started", async () => {
    const r = await box.run(["cp", "g3f", "-p", "hi"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the gateway at http://127.0.0.1:${other.port}: something answers there, but not as gw does (HTTP 404 to GET /v1/models): check the address (main_port, gw up --port)`);
    expect(r.call).toBeNull();
  });

  test("on a terminal it asks, as for a gateway that is down; Enter (no) does not start claude", async () => {
    const r = await interactive(box, ["cp", "g3f"], env, async (t) => {
      await t.waitFor("anyway? [y/N]");
      await t.send("Enter");
    });
    expect(r.screen).toContain("not as gw does (HTTP 404 to GET /v1/models)");
    expect(r.call).toBeNull();
  });
});

describe("gateway down on a terminal", () => {
  const box = new CldSandbox({ tools: ["tmux"] });
  const env = { CLD_TOML: box.writeConfig("down.toml", cldConfig(closedPort())) };

  test("says how to start it and asks; y launches anyway", async () => {
    const r = await interactive(box, ["cp", "g3f"], env, async (t) => {
      expect(await t.waitFor("Start Claude Code anyway? [y/N]")).toContain("start it with: gw up -d");
      await t.send("y", "Enter");
    });
    expect(r.call!.env.ANTHROPIC_MODEL).toBe("g3f");
  });

  test("Enter (no) does not start claude, and the launch that did not happen is not remembered as the last one", async () => {
    const before = { main: "opus4.6", fast: "g3f", opus: "opus4.6", scenario: "Balanced" };
    box.remember("cp", before);
    const lastMode = join(box.home, ".cache", "cld", "last_mode");
    writeFileSync(lastMode, "official\n");
    const r = await interactive(box, ["cp", "g3f"], env, async (t) => {
      await t.waitFor("Start Claude Code anyway? [y/N]");
      await t.send("Enter");
    });
    expect(r.screen).toContain("[exit 1]");
    expect(r.call).toBeNull();
    expect(box.memory("cp")).toEqual(before);
    expect(readFileSync(lastMode, "utf8")).toBe("official\n");
    // Started after all (y): that launch is the last one.
    await interactive(box, ["cp", "g3f"], env, async (t) => {
      await t.waitFor("Start Claude Code anyway? [y/N]");
      await t.send("y", "Enter");
    });
    expect(box.memory("cp")).toMatchObject({ main: "g3f", scenario: "" });
    expect(readFileSync(lastMode, "utf8")).toBe("cp\n");
  });
});

describe("the gateway's auto router", () => {
  const box = new CldSandbox({ tools: ["fzf", "tmux"] });
  const router = (shadow: boolean) => `[global.lb_model_router]\nenabled = true\nshadow_only = ${shadow}\ndefault_model = "g3f"`;
  const on = { CLD_TOML: box.writeConfig("router.toml", cldConfig(gateway.port!, router(false))) };

  test("an Auto scenario (main and fast = auto, opus stays a route) when the router is on", async () => {
    const r = await interactive(box, ["cp"], on, async (t) => {
      await t.waitFor("Scenario>");
      expect(await t.waitFor(/Auto\s+main=auto  fast=auto  opus=opus4\.6/)).toContain("Custom");
      await choose(t, "Auto ");
    });
    expect(r.call!.env).toMatchObject({ ANTHROPIC_MODEL: "auto", ANTHROPIC_DEFAULT_HAIKU_MODEL: "auto", CLAUDE_CODE_SUBAGENT_MODEL: "auto", ANTHROPIC_DEFAULT_OPUS_MODEL: "opus4.6" });
    expect(box.memory("cp")).toMatchObject({ scenario: "Auto", main: "auto" });
  });

  test("no Auto scenario in shadow mode (auto would reach no route) or without a router", async () => {
    for (const config of [cldConfig(gateway.port!, router(true)), cldConfig(gateway.port!)]) {
      const env = { CLD_TOML: box.writeConfig("other.toml", config) };
      const r = await interactive(box, ["cp"], env, async (t) => {
        expect(await t.waitFor("Scenario>")).not.toMatch(/Auto\s+main=auto/);
        await t.send("C-c");
      });
      expect(r.call).toBeNull();
    }
  });

  test("a FILTER that matches no route: one line, then the menus", async () => {
    const r = await interactive(box, ["cp", "opus5"], on, async (t) => {
      expect(await t.waitFor("Scenario>")).toContain('cld: no route matches "opus5"');
      await choose(t, "Performance");
    });
    expect(r.call!.env).toMatchObject({ ANTHROPIC_MODEL: "opus4.6" });
  });
});
