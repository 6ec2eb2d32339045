// gw run's route menu on a real terminal: tmux drives real fzf (or the numbered picker) with
// keystrokes; the choice is remembered per agent and Esc takes it again.
import { describe, expect, test } from "bun:test";
import { CldSandbox, gatewayForFile, RUN } from "../helpers/cld.ts";
import { inPane, type TmuxPane } from "../cld/tmux-pane.ts";

const gateway = gatewayForFile();

function config(port: number): string {
  const route = (model: string) => `[{ instance = "a", provider = "antigravity", model = "${model}" }]`;
  return `[global]\nhost = "127.0.0.1"\nmain_port = ${port}\n\n[instances.a]\nport = ${port === 65535 ? port - 1 : port + 1}\nproviders = [{ type = "antigravity" }]\n
[routing]\n"g3f" = ${route("gemini-3-flash")}\n"opus4.6" = ${route("claude-opus-4-6-thinking")}\n"gpt5" = ${route("gpt-5")}\n`;
}

const interactive = (box: CldSandbox, args: string[], drive: (t: TmuxPane) => Promise<void>) => inPane(box, [...RUN, ...args], {}, drive);

describe("with fzf", () => {
  const box = new CldSandbox({ noClaude: true, agents: ["gemini"], tools: ["fzf", "tmux"] });
  const toml = box.writeConfig("gw.toml", config(gateway.port!));

  test("the menu lists the Gemini route first, with models, window and translation; the pick launches and is remembered", async () => {
    const r = await interactive(box, ["gemini", "-c", toml], async (t) => {
      const menu = await t.waitFor("gemini route>");
      const names = menu.split("\n").map((l) => /^[> ] (\S+)/.exec(l)?.[1]).filter((n) => n && !n.startsWith("Esc") && !/\d\/\d/.test(n));
      expect(names).toEqual(["g3f", "opus4.6", "gpt5"]);
      expect(menu).toMatch(/g3f +gemini-3-flash · 1M$/m);
      expect(menu).toMatch(/gpt5 +gpt-5 · 400k · translated by CLIProxyAPI$/m);
      await t.send("-l", "gpt5");
      await t.waitFor(/ 1\/3 /);
      await t.send("Enter");
    });
    expect(r.screen).toContain("fake gemini ran");
    expect(r.call!.env.GEMINI_MODEL).toBe("gpt5");
    expect(r.window).toBe("gw run gemini gpt5");
  });

  test("Esc takes the remembered route", async () => {
    const r = await interactive(box, ["gemini", "-c", toml], async (t) => {
      expect(await t.waitFor("gemini route>")).toContain("Esc: gpt5 (last)");
      await t.send("Escape");
    });
    expect(r.call!.env.GEMINI_MODEL).toBe("gpt5");
  });

  test("a name typed into the agent menu is the one Enter takes, though an earlier line matches it loosely", async () => {
    const r = await interactive(box, ["-c", toml], async (t) => {
      await t.waitFor("Agent>");
      await t.send("-l", "gemini");
      // Claude Code's, opencode's and Qwen Code's lines match "gemini" too, scattered through their descriptions ("…gateway … main …").
      const narrowed = await t.waitFor(/ 4\/5 /);
      expect(narrowed.split("\n").find((l) => l.startsWith("> "))).toMatch(/^> gemini /);
      await t.send("Enter");
      await t.waitFor("gemini route>");
      await t.send("-l", "g3f");
      await t.waitFor(/ 1\/3 /);
      await t.send("Enter");
    });
    expect(r.screen).toContain("fake gemini ran");
    expect(r.call!.env.GEMINI_MODEL).toBe("g3f");
  });
});

describe("without fzf: the numbered picker", () => {
  const box = new CldSandbox({ noClaude: true, agents: ["codex"], tools: ["tmux"] });
  const toml = box.writeConfig("gw.toml", config(gateway.port!));

  test("a number picks; the codex menu puts the GPT route first; Enter next time takes it again", async () => {
    const first = await interactive(box, ["codex", "-c", toml, "exec", "hi"], async (t) => {
      const menu = await t.waitFor("Pick 1-3:");
      expect(menu).toMatch(/ 1\) gpt5 +gpt-5 · 400k\n/);
      await t.send("-l", "3");
      await t.send("Enter");
    });
    expect(first.call!.argv.slice(-2)).toEqual(["exec", "hi"]);
    expect(first.call!.env.CODEX_HOME).toBeDefined();
    const again = await interactive(box, ["codex", "-c", toml], async (t) => {
      await t.waitFor("Pick 1-3 [Enter: opus4.6]:");
      await t.send("Enter");
    });
    expect(again.screen).toContain("route opus4.6 (claude-opus-4-6-thinking");
  });
});

describe("gw run alone", () => {
  const box = new CldSandbox({ noClaude: true, agents: ["codex"], tools: ["tmux"] });
  const toml = box.writeConfig("gw.toml", config(gateway.port!));

  test("asks for the agent (then the route) and remembers it", async () => {
    const r = await interactive(box, ["-c", toml], async (t) => {
      const menu = await t.waitFor(/Agent:[\s\S]*Pick 1-5:/);
      expect(menu).toMatch(/ 2\) codex +OpenAI Codex CLI/);
      await t.send("-l", "codex");
      await t.send("Enter");
      await t.waitFor(/codex route:[\s\S]*Pick 1-3:/);
      await t.send("-l", "1");
      await t.send("Enter");
    });
    expect(r.screen).toContain("fake codex ran");
    expect(r.call!.env.GW_API_KEY).toBe("dummy-key");
    const again = await interactive(box, ["-c", toml], async (t) => {
      await t.waitFor("Pick 1-5 [Enter: codex]:");
      await t.send("Enter");
      await t.waitFor("Pick 1-3 [Enter: gpt5]:");
      await t.send("Enter");
    });
    expect(again.screen).toContain("route gpt5 (gpt-5");
  });
});

describe("one route: nothing to choose, so no menu (and no terminal needed)", () => {
  const box = new CldSandbox({ agents: ["gemini"] });
  const toml = box.writeConfig("one.toml", `[global]\nhost = "127.0.0.1"\nmain_port = ${gateway.port}\n\n[instances.a]\nport = ${gateway.port! === 65535 ? gateway.port! - 1 : gateway.port! + 1}\nproviders = [{ type = "antigravity" }]\n\n[routing]\n"sonnet" = [{ instance = "a", provider = "antigravity", model = "claude-sonnet-4-6" }]\n`);

  test("cld cp takes it for main, fast and opus: it asked Scenario (Custom alone), then each role with that one route", async () => {
    const r = await box.run(["cp", "-c", toml, "-p", "hi"]);
    expect([r.code, r.call?.argv]).toEqual([0, ["-p", "hi"]]);
    expect(r.call!.env).toMatchObject({ ANTHROPIC_MODEL: "sonnet", ANTHROPIC_DEFAULT_HAIKU_MODEL: "sonnet", ANTHROPIC_DEFAULT_OPUS_MODEL: "sonnet" });
  });

  test("gw run takes it: a one-line menu was all the agent's launch asked", async () => {
    const r = await box.run(["gemini", "-c", toml, "-p", "hi"], { cmd: RUN });
    expect([r.code, r.call?.env.GEMINI_MODEL]).toEqual([0, "sonnet"]);
  });
});
