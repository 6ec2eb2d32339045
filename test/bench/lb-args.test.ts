// `bun bench/lb.ts` is issue 16's one-command table; what it is asked must not start it by
// mistake: `--help` prints the usage, a typo or a bad value is refused — before any process starts.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { unknownArgs } from "../../bench/lb-harness.ts";

const LB = join(import.meta.dir, "../../bench/lb.ts");

test("unknownArgs: options with their value and flags are known; anything else is named", () => {
  const known = (args: string[]) => unknownArgs(args, ["--rounds", "--duration"], ["--no-nginx"]);
  expect(known([])).toEqual([]);
  expect(known(["--rounds", "5", "--no-nginx", "--duration", "1"])).toEqual([]);
  expect(known(["--round", "5"])).toEqual(["--round", "5"]);
  expect(known(["--help"])).toEqual(["--help"]);
  expect(known(["--rounds"])).toEqual(["--rounds"]); // no value
});

test("bun bench/lb.ts --help prints the usage; a typo or a bad value exits 2 with it — nothing is run", async () => {
  const run = async (...args: string[]) => {
    // Were the bench to start, the timeout ends it (its SIGTERM handler stops what it started).
    const p = Bun.spawn(["bun", LB, ...args], { stdout: "pipe", stderr: "pipe", timeout: 15_000 });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { out, err, code };
  };
  const help = await run("--help");
  expect([help.code, help.err]).toEqual([0, ""]);
  expect(help.out).toStartWith("usage: bun bench/lb.ts [--rounds N]");
  const typo = await run("--round", "1");
  expect(typo.code).toBe(2);
  expect(typo.err).toContain("unknown argument --round 1");
  expect(typo.out).toBe("");
  expect((await run("--rounds", "x")).code).toBe(2);
});
