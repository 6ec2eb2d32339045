import { describe, expect, test } from "bun:test";
import { parseCldArgs, YOLO_FLAG } from "../../src/cld/args.ts";

describe("parseCldArgs", () => {
  test("mode, filter, then every other argument for claude in order", () => {
    const a = parseCldArgs(["cp", "opus", "-p", "hi there", "--resume"]);
    expect(a).toEqual({ mode: "cp", filter: "opus", filterExact: false, config: undefined, help: false, claudeArgs: ["-p", "hi there", "--resume"], claudeArgsWithFilter: ["opus", "-p", "hi there", "--resume"] });
  });

  test("a dash argument right after cp means no filter, and the words after it are claude's", () => {
    const a = parseCldArgs(["cp", "-p", "hi"]);
    expect(a.filter).toBeUndefined();
    expect(a.claudeArgs).toEqual(["-p", "hi"]);
  });

  test("-y / --yolo become --dangerously-skip-permissions where they stood, even before the filter", () => {
    expect(parseCldArgs(["cp", "-y", "g3f", "--resume"])).toMatchObject({ filter: "g3f", claudeArgs: [YOLO_FLAG, "--resume"] });
    expect(parseCldArgs(["--yolo", "official", "-c"]).claudeArgs).toEqual([YOLO_FLAG, "-c"]);
  });

  test("ag and official take no filter: the next word is claude's prompt", () => {
    expect(parseCldArgs(["ag", "fix the bug"])).toMatchObject({ mode: "ag", filter: undefined, claudeArgs: ["fix the bug"] });
  });

  test("no mode: a first word that is not a mode is a route only by its exact name (cp decides), else claude's; after -- always claude's", () => {
    expect(parseCldArgs(["-p", "cp"])).toMatchObject({ mode: undefined, filter: undefined, claudeArgs: ["-p", "cp"] });
    expect(parseCldArgs(["hello"])).toMatchObject({ mode: undefined, filter: "hello", filterExact: true, claudeArgs: [], claudeArgsWithFilter: ["hello"] });
    expect(parseCldArgs(["opus", "-p", "--help"])).toMatchObject({ filter: "opus", help: false, claudeArgs: ["-p", "--help"], claudeArgsWithFilter: ["opus", "-p", "--help"] });
    expect(parseCldArgs(["--", "opus"])).toMatchObject({ filter: undefined, claudeArgs: ["opus"], claudeArgsWithFilter: ["opus"] });
  });

  test("-c is cld's only with a .toml file; alone it is claude's --continue", () => {
    expect(parseCldArgs(["cp", "-c", "my.toml", "g3f"])).toMatchObject({ config: "my.toml", filter: "g3f", claudeArgs: [] });
    expect(parseCldArgs(["cp", "g3f", "-c"])).toMatchObject({ config: undefined, claudeArgs: ["-c"] });
    expect(parseCldArgs(["--config=x.toml", "cp"]).config).toBe("x.toml");
    expect(parseCldArgs(["cp", "--config", "conf"]).config).toBe("conf");
  });

  test("a key=value after -c or --config is the agent's (Codex's own --config), never the config file", () => {
    expect(parseCldArgs(["cp", "-c", "x.toml", "g3f", "--config", "effort=high", "--config=a=b.toml", "-c", "k=v.toml"])).toMatchObject({
      config: "x.toml",
      claudeArgs: ["--config", "effort=high", "--config=a=b.toml", "-c", "k=v.toml"],
    });
  });

  test("after -- everything is claude's, cld's own flags included", () => {
    expect(parseCldArgs(["cp", "g3f", "--", "-y", "-h", "cp"])).toMatchObject({ help: false, claudeArgs: ["-y", "-h", "cp"] });
  });

  test("-h / --help ask for cld's help", () => {
    expect(parseCldArgs(["cp", "-h"]).help).toBe(true);
    expect(parseCldArgs(["--help"]).help).toBe(true);
    expect(parseCldArgs(["cp", "g3f", "-y", "-c", "x.toml", "--help"]).help).toBe(true);
  });

  test("once claude's own arguments have begun, -h, --help and -- are claude's, in place", () => {
    expect(parseCldArgs(["cp", "g3f", "-p", "--help"])).toMatchObject({ help: false, claudeArgs: ["-p", "--help"] });
    expect(parseCldArgs(["cp", "g3f", "mcp", "-h"])).toMatchObject({ help: false, claudeArgs: ["mcp", "-h"] });
    expect(parseCldArgs(["cp", "g3f", "-p", "--", "-y", "--weird prompt"])).toMatchObject({ help: false, claudeArgs: ["-p", "--", "-y", "--weird prompt"] });
  });
});
