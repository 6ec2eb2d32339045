// Commands inside prose, retyped for a user who runs gw by another name (pure).
import { describe, expect, test } from "bun:test";
import { typeCommands } from "../../src/cli/typed-text.ts";

const names = { gw: "'my build/gw'", cld: "'my build/gw' cld", subcommands: ["up", "down", "status", "logs", "cld", "upgrade", "login", "check", "mock", "route"] };
const typed = (text: string) => typeCommands(text, names);

describe("typeCommands", () => {
  test("gw SUBCOMMAND and cld MODE|FLAG, wherever a word may start", () => {
    expect(typed("run gw upgrade against the running gw")).toBe("run 'my build/gw' upgrade against the running gw");
    expect(typed("gw status says whether it runs; gw logs shows its last lines")).toBe("'my build/gw' status says whether it runs; 'my build/gw' logs shows its last lines");
    expect(typed("fix them (gw check lists every problem)")).toBe("fix them ('my build/gw' check lists every problem)");
    expect(typed("run gw route explain again once gw status says serving")).toBe("run 'my build/gw' route explain again once 'my build/gw' status says serving");
    expect(typed("try: cld --resume X, or cld cp")).toBe("try: 'my build/gw' cld --resume X, or 'my build/gw' cld cp");
  });

  test("prose about gw, paths and labels stay", () => {
    for (const same of ["the gw demo", "another gw", "gw (pid 3) is still stopping", "gw mock: connection cut", "/usr/local/bin/gw up", "./gw up -d", "cld names the file", "the gw upgrades", "gw stopped"]) expect(typed(same)).toBe(same);
  });

  test("values quoted in a message stay as written: a route or instance name, a client's model, a file named like a command", () => {
    expect(typed('route name "gw up" may only use letters (rename it, e.g. "gw-up")')).toBe('route name "gw up" may only use letters (rename it, e.g. "gw-up")');
    expect(typed('routing."cld cp"[0].instance  error: route "cld cp" names unknown instance "zz"  (fix it; gw check lists every problem)')).toBe(
      'routing."cld cp"[0].instance  error: route "cld cp" names unknown instance "zz"  (fix it; \'my build/gw\' check lists every problem)',
    );
    expect(typed('model "gw down" is no route of gw; gw status lists the routes')).toBe('model "gw down" is no route of gw; \'my build/gw\' status lists the routes');
    expect(typed("gw up.toml:7:1  routing.m  error: …  (see gw logs.)")).toBe("gw up.toml:7:1  routing.m  error: …  (see 'my build/gw' logs.)");
  });

  test("text typed already is left as it is: gw cld's cld is no second command", () => {
    expect(typed("gw cld cp opus")).toBe("'my build/gw' cld cp opus");
    for (const done of ["resume it with: 'my build/gw' cld --resume 1", "'my build/gw' up -d", "./gw cld cp"]) expect(typed(done)).toBe(done);
    expect(typed(typed("gw up, gw cld ag, cld official"))).toBe(typed("gw up, gw cld ag, cld official"));
  });
});
