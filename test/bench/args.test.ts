// A bench loads every core for minutes on a shared machine; what it is asked must not start it by
// mistake: `--help` prints the usage, a typo or a bad value is refused — before anything starts.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { count, counts, flag, readArgs, repeated, seconds, words } from "../../bench/args.ts";
import { tempDir } from "../helpers/tmp.ts";

const BENCH = join(import.meta.dir, "../../bench");
/**
 * Every bench command: each file of bench/ that reads its arguments with benchArgs (the others —
 * lb-servers.ts, the harness, the bodies — are parts of them), so a new bench is held to the rules
 * below and to README.md's table without anyone listing it here.
 */
const COMMANDS = readdirSync(BENCH)
  .filter((f) => f.endsWith(".ts") && f !== "args.ts" && readFileSync(join(BENCH, f), "utf8").includes("benchArgs("))
  .map((f) => f.slice(0, -3))
  .sort();

test("the bench commands are found (none lost to a renamed argument reader)", () => {
  expect(COMMANDS).toContain("lb");
  expect(COMMANDS).toContain("state-wal");
  expect(COMMANDS.length).toBeGreaterThanOrEqual(11);
});

const USAGE = "bun bench/x.ts [--rounds N] [--duration S] [--no-write] [--gw DIR]...";
const SPECS = { rounds: count(3), duration: seconds(), "no-write": flag, gw: repeated };

test("readArgs: the declared options with their defaults, and the words a command takes", () => {
  expect(readArgs([], USAGE, SPECS)).toEqual({ args: { rounds: 3, duration: undefined, "no-write": false, gw: [], words: [] } });
  expect(readArgs(["--rounds", "5", "--no-write", "--duration=2", "--gw", "a", "--gw", "b"], USAGE, SPECS)).toEqual({
    args: { rounds: 5, duration: 2, "no-write": true, gw: ["a", "b"], words: [] },
  });
  expect(readArgs(["--cost", "main", "."], "bun bench/ab.ts A B", { cost: flag }, words(2, 2, "two git refs"))).toEqual({ args: { cost: true, words: ["main", "."] } });
  expect(readArgs(["10"], "bun bench/usage.ts [n] [days]", {}, counts(0, 2, "numbers"))).toEqual({ args: { words: [10] } });
});

test("readArgs: --help and -h give the usage (exit 0); anything else not taken is named, with the usage (exit 2)", () => {
  const usage = `usage: ${USAGE}`;
  expect(readArgs(["--help"], USAGE, SPECS)).toEqual({ exit: 0, out: usage });
  expect(readArgs(["-h"], USAGE, SPECS)).toEqual({ exit: 0, out: usage });
  const refused = (argv: string[], why: string) => expect(readArgs(argv, USAGE, SPECS)).toEqual({ exit: 2, out: `bench/x.ts: ${why}\n${usage}` });
  refused(["--round", "5"], "Unknown option '--round'");
  refused(["--rounds"], "Option '--rounds <value>' argument missing");
  refused(["--rounds", "-1"], "Option '--rounds' argument is ambiguous");
  refused(["--rounds", "x"], '--rounds takes a whole number ≥ 1, not "x"');
  refused(["--rounds", "0"], '--rounds takes a whole number ≥ 1, not "0"');
  refused(["--duration", "1.5"], '--duration takes a whole number of seconds ≥ 1, not "1.5"'); // wrk's -d takes whole seconds
  refused(["--no-write=1"], "Option '--no-write' does not take an argument");
  refused(["5"], "Unexpected argument '5'");
  const ab = (...argv: string[]) => readArgs(argv, "bun bench/ab.ts A B", {}, words(2, 2, "two git refs (A B)"));
  expect(ab("main")).toEqual({ exit: 2, out: "bench/ab.ts: takes two git refs (A B); got main\nusage: bun bench/ab.ts A B" });
  expect(readArgs(["0"], "bun bench/usage.ts [n]", {}, counts(0, 1, "n ≥ 1"))).toEqual({ exit: 2, out: 'bench/usage.ts: takes n ≥ 1, not "0"\nusage: bun bench/usage.ts [n]' });
});

/** Runs a bench command with a temp dir of its own; were the bench to start, the timeout ends it (by its pid). */
async function run(command: string, ...args: string[]) {
  const tmp = tempDir("gw-bench-args-");
  const p = Bun.spawn(["bun", join(BENCH, `${command}.ts`), ...args], { stdout: "pipe", stderr: "pipe", timeout: 15_000, env: { ...process.env, TMPDIR: tmp } });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code, signal: p.signalCode, leftInTmp: readdirSync(tmp) };
}

/** Each command's `--help`, run once for the tests below. */
const helps = new Map<string, ReturnType<typeof run>>();
const help = (command: string) => helps.get(command) ?? helps.set(command, run(command, "--help")).get(command)!;

for (const command of COMMANDS) {
  test(`bun bench/${command}.ts: --help prints its usage (exit 0), --bogus is refused (exit 2) — nothing started, nothing left`, async () => {
    const [helped, bogus] = await Promise.all([help(command), run(command, "--bogus")]);
    expect(helped).toMatchObject({ code: 0, signal: null, err: "", leftInTmp: [] });
    expect(helped.out).toStartWith(`usage: bun bench/${command}.ts`);
    expect(bogus).toMatchObject({ code: 2, signal: null, out: "", leftInTmp: [] });
    expect(bogus.err).toBe(`bench/${command}.ts: Unknown option '--bogus'\n${helped.out}`);
  });
}

test("bun bench/lb.ts: a typo or a bad value exits 2 with the usage", async () => {
  const [typo, bad] = await Promise.all([run("lb", "--round", "1"), run("lb", "--rounds", "x")]);
  expect(typo).toMatchObject({ code: 2, out: "", leftInTmp: [] });
  expect(typo.err).toStartWith("bench/lb.ts: Unknown option '--round'\nusage: bun bench/lb.ts [--rounds N]");
  expect(bad).toMatchObject({ code: 2, out: "", leftInTmp: [] });
  expect(bad.err).toStartWith('bench/lb.ts: --rounds takes a whole number ≥ 1, not "x"\n');
});

test("bench/README.md's table of commands is each command's usage line", async () => {
  const table = readFileSync(join(BENCH, "README.md"), "utf8")
    .split("\n")
    .flatMap((line) => /^\| `(bun bench\/[^`]+)` \|/.exec(line)?.[1]?.replaceAll("\\|", "|") ?? []);
  const usages = await Promise.all(COMMANDS.map(async (c) => (await help(c)).out.split("\n")[0]!.replace(/^usage: /, "")));
  expect(table.toSorted()).toEqual(usages.toSorted());
});
