// The arguments of every bench command, read before it starts anything: a bench loads every core
// for minutes on a shared machine, so `--help`, a typo (`--round 5`) or a bad value must never be
// taken as "run with the defaults". `--help`/`-h` prints the usage (exit 0); anything else it does
// not take prints one line saying what and the usage (exit 2).
import { parseArgs } from "node:util";

type Given = string | boolean | (string | boolean)[] | undefined;
const BAD = Symbol("not what the option takes");

/** One option: how parseArgs reads it, and how what was given (undefined if nothing) becomes its value. */
export interface Spec<T> {
  readonly type: "string" | "boolean";
  readonly multiple?: boolean;
  /** What the option takes, for the message when it is given something else. */
  readonly takes?: string;
  readonly read: (given: Given) => T | typeof BAD;
}

/** What a command takes besides options: min…max words, each read by `read`. */
export interface Words<T> {
  readonly min: number;
  readonly max: number;
  /** What they are, for the message: "two git refs (A B)". */
  readonly what: string;
  readonly read: (word: string) => T | typeof BAD;
}

export const flag: Spec<boolean> = { type: "boolean", read: (given) => given === true };

/** `--gw DIR`, any number of times. */
export const repeated: Spec<string[]> = { type: "string", multiple: true, read: (given) => (given as string[] | undefined) ?? [] };

/** Any one word (`--cpu-prof DIR`), undefined when not given. */
export const text: Spec<string | undefined> = { type: "string", read: (given) => given as string | undefined };

function wholeNumber(takes: string) {
  const read = (word: string) => (/^\d+$/.test(word) && Number(word) >= 1 ? Number(word) : BAD);
  const spec = <D extends number | undefined = undefined>(dflt?: D): Spec<number | D> => ({
    type: "string",
    takes,
    read: (given) => (given === undefined ? (dflt as D) : read(given as string)),
  });
  return Object.assign(spec, { read });
}

/** A whole number ≥ 1 (rounds, requests, connections). */
export const count = wholeNumber("a whole number ≥ 1");
/** A duration for wrk's -d, which takes whole seconds. */
export const seconds = wholeNumber("a whole number of seconds ≥ 1");

/** Whole numbers ≥ 1 as words: `bun bench/usage.ts 3000 365`. */
export const counts = (min: number, max: number, what: string): Words<number> => ({ min, max, what, read: count.read });
/** Any words: `bun bench/ab.ts A B`. */
export const words = (min: number, max: number, what: string): Words<string> => ({ min, max, what, read: (w) => w });

type Values<S> = { [K in keyof S]: S[K] extends Spec<infer T> ? T : never };
export type Outcome<S, W> = { args: Values<S> & { words: W[] } } | { exit: 0 | 2; out: string };

/**
 * Pure: what `argv` asks of a command whose usage is `usage` (its first line the command itself,
 * `bun bench/x.ts [--rounds N]`), taking the options `specs` and the words `taken` (none if absent).
 */
export function readArgs<S extends Record<string, Spec<unknown>>, W = never>(argv: readonly string[], usage: string, specs: S, taken?: Words<W>): Outcome<S, W> {
  const refuse = (why: string) => ({ exit: 2 as const, out: refusal(usage, why) });
  let parsed: ReturnType<typeof parseArgs>;
  try {
    const options = Object.fromEntries(Object.entries(specs).map(([name, s]) => [name, { type: s.type, multiple: s.multiple }]));
    parsed = parseArgs({ args: [...argv], strict: true, allowPositionals: taken !== undefined, options: { ...options, help: { type: "boolean", short: "h" } } });
  } catch (e) {
    return refuse(String((e as Error).message).split(/\.\s|\n/)[0]!); // the first sentence: which argument, not how to quote it
  }
  if (parsed.values.help) return { exit: 0, out: `usage: ${usage}` };
  const values: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(specs)) {
    const v = s.read(parsed.values[name]);
    if (v === BAD) return refuse(`--${name} takes ${s.takes}, not ${JSON.stringify(parsed.values[name])}`);
    values[name] = v;
  }
  const given = parsed.positionals;
  if (taken && (given.length < taken.min || given.length > taken.max)) return refuse(`takes ${taken.what}; got ${given.length ? given.join(" ") : "none"}`);
  const read = given.map((w) => taken!.read(w));
  const bad = read.indexOf(BAD);
  if (bad >= 0) return refuse(`takes ${taken!.what}, not ${JSON.stringify(given[bad])}`);
  return { args: { ...(values as Values<S>), words: read as W[] } };
}

/** `readArgs` on this process's arguments: prints the usage or the refusal and exits, or returns the values. */
export function benchArgs<S extends Record<string, Spec<unknown>>, W = never>(usage: string, specs: S, taken?: Words<W>): Values<S> & { words: W[] } {
  const got = readArgs(process.argv.slice(2), usage, specs, taken);
  if ("args" in got) return got.args;
  (got.exit === 0 ? console.log : console.error)(got.out);
  process.exit(got.exit);
}

/** Refuses a combination the options cannot take (`--real` without `--cost`), as readArgs refuses a bad value. */
export function refuseArgs(usage: string, why: string): never {
  console.error(refusal(usage, why));
  process.exit(2);
}

/** One line naming the script and what it refused, then the usage. */
const refusal = (usage: string, why: string) => `${usage.split(" ")[1]}: ${why}\nusage: ${usage}`;
