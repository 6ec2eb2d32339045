// How long gw's everyday commands and cld take before they do their work, in compiled binaries.
//   bun bench/startup.ts [--rounds 21] [--up-rounds 21] [--no-up] [--gw DIR]... [--no-write]
// For each gw checkout (--gw, repeatable; default this one) its binary is built (`bun run build`'s
// compile, into a temp dir), and beside them a compiled hello-world (`bun build --compile` of
// `console.log(1)`: what any compiled Bun program pays to start) and `true` (what a process costs).
// Every command runs once per round, all builds and baselines taking turns in the same round; the
// table gives the median wall and CPU (user + system) time of the rounds, and the wall time above
// the hello-world's. Each runs in a fresh HOME and cache (no gw running, nothing remembered):
//   --version, --help         the two that must be instant
//   status                    no gw running (exit 1: "gw is not running")
//   check                     on providers.toml.example
//   complete                  `gw _complete -- cld cp ""`, what TAB runs for a route name
//   cld --help                the binary invoked as cld (a link, as `gw install` makes)
//   cld official -p           until cld execs claude: a `claude` on PATH that is /bin/true
//                             (the time `true` takes by itself is subtracted)
//   cld cp g3f -p             the same through the gateway: the demo runs (`gw up -d`) meanwhile
// and `gw up` in demo mode (two `gw mock` instances) until it prints "serving on", against one
// `gw mock` until it prints "listening on" (--up-rounds; skipped with --no-up).
// Writes bench/notes/startup.md unless --no-write.

import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { benchArgs, count, flag, repeated } from "./args.ts";
import { Children, median } from "./lb-harness.ts";

const args = benchArgs("bun bench/startup.ts [--rounds N] [--up-rounds N] [--no-up] [--gw DIR]... [--no-write]", {
  rounds: count(21),
  "up-rounds": count(21),
  "no-up": flag,
  gw: repeated,
  "no-write": flag,
});
const roots = args.gw.length ? args.gw.map((dir) => resolve(dir)) : [resolve(import.meta.dir, "..")];
const children = new Children();
const tmp = children.tempDir("gw-bench-startup-");
const EXAMPLE = join(import.meta.dir, "..", "providers.toml.example");

/** One program to time: its argv, where it runs, and what it may add to the environment. */
interface Target {
  readonly label: string;
  readonly argv: string[];
  readonly cwd: string;
  readonly env: Record<string, string>;
  /** Whether `true`'s own wall time is taken off: the fake claude's run, after cld's exec. */
  readonly lessTrue?: boolean;
}

interface Timing {
  wall: number[];
  cpu: number[];
}

/** A build of `root`'s gw in its own folder: the binary, a `cld` link to it, a fake `claude`, a fresh HOME. */
async function prepare(root: string, i: number): Promise<{ bin: string; dir: string; env: Record<string, string> }> {
  const dir = join(tmp, `gw${i}`);
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  const built = Bun.spawnSync(["bun", "src/release/main.ts", "--host", "--outfile", join(bin, "gw")], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (built.exitCode !== 0) throw new Error(`building ${root} failed: ${built.stderr}`);
  symlinkSync(join(bin, "gw"), join(bin, "cld"));
  symlinkSync("/bin/true", join(bin, "claude"));
  const home = join(dir, "home");
  mkdirSync(join(home, "work"), { recursive: true });
  mkdirSync(join(home, "config"));
  cpSync(EXAMPLE, join(home, "config", "providers.toml"));
  // the keys the example names, so that check passes (exit 0) as a filled-in setup does
  const keys = [...new Set((readFileSync(EXAMPLE, "utf8").match(/\$\{[A-Z_]+\}/g) ?? []).map((k) => k.slice(2, -1)))];
  writeFileSync(join(home, "config", ".env"), keys.map((k) => `${k}=bench\n`).join(""));
  const env = { HOME: home, XDG_CACHE_HOME: join(home, ".cache"), XDG_CONFIG_HOME: join(home, ".config"), PATH: `${bin}:/usr/bin:/bin`, NO_COLOR: "1" };
  return { bin, dir: home, env };
}

function commandsOf(label: string, gw: { bin: string; dir: string; env: Record<string, string> }): Target[] {
  const g = join(gw.bin, "gw");
  const work = join(gw.dir, "work");
  const config = join(gw.dir, "config");
  const t = (name: string, argv: string[], cwd = work, extra: Partial<Target> = {}): Target => ({ label: `${name}|${label}`, argv, cwd, env: gw.env, ...extra });
  return [
    t("gw --version", [g, "--version"]),
    t("gw --help", [g, "--help"]),
    t("gw status (not running)", [g, "status"]),
    t("gw check", [g, "check", "-c", join(config, "providers.toml")]),
    t('gw _complete -- cld cp ""', [g, "_complete", "--", "cld", "cp", ""], config),
    t("cld --help", [join(gw.bin, "cld"), "--help"]),
    t("cld official -p (until exec)", [join(gw.bin, "cld"), "official", "-p", "hi"], work, { lessTrue: true }),
    // cld's own mode, against the demo running in its own cache (status above must find none)
    t("cld cp g3f -p (until exec, demo running)", [join(gw.bin, "cld"), "cp", "g3f", "-p", "hi"], work, { lessTrue: true, env: demoEnv(gw) }),
  ];
}

/** The environment of the demo gw that `cld cp` talks to: its own cache, so no other command sees it running. */
const demoEnv = (gw: { dir: string; env: Record<string, string> }) => ({ ...gw.env, XDG_CACHE_HOME: join(gw.dir, ".cache-demo") });

/** Start (`up -d`) or stop (`down`) each build's demo gw. */
function demos(builds: readonly { bin: string; dir: string; env: Record<string, string> }[], args: string[]): void {
  for (const b of builds) {
    const r = Bun.spawnSync([join(b.bin, "gw"), ...args], { cwd: join(b.dir, "work"), env: demoEnv(b), stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`gw ${args.join(" ")} failed: ${r.stdout}${r.stderr}`);
  }
}

async function timeOnce(t: Target, into: Map<string, Timing>): Promise<void> {
  const t0 = performance.now();
  const p = Bun.spawn(t.argv, { cwd: t.cwd, env: { ...t.env }, stdout: "ignore", stderr: "pipe" });
  const err = await new Response(p.stderr).text();
  await p.exited;
  const wall = performance.now() - t0;
  if (p.exitCode !== 0 && !t.label.startsWith("gw status")) throw new Error(`${t.argv.join(" ")} exited ${p.exitCode}: ${err}`);
  const cpu = p.resourceUsage()!.cpuTime;
  const row = into.get(t.label) ?? { wall: [], cpu: [] };
  row.wall.push(wall);
  row.cpu.push(Number(cpu.user + cpu.system) / 1000);
  into.set(t.label, row);
}

/** Spawn `argv` and resolve with the ms until its stdout shows `pattern`; the process is stopped after. */
async function untilLine(argv: string[], pattern: RegExp, cwd: string, env: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const p = Bun.spawn(argv, { cwd, env, stdout: "pipe", stderr: "pipe" });
  const stderr = new Response(p.stderr).text();
  let out = "";
  const decoder = new TextDecoder();
  const reader = p.stdout.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    out += decoder.decode(value, { stream: true });
    if (pattern.test(out)) break;
  }
  const ms = performance.now() - t0;
  // read on to the end: a closed pipe would end gw at its next line (EPIPE) instead of its SIGTERM
  // handler, which stops its instances
  const drained = (async () => {
    while (!(await reader.read()).done) {}
  })();
  p.kill("SIGTERM");
  await Promise.all([p.exited, drained]);
  if (!pattern.test(out)) throw new Error(`${argv.join(" ")} ended without ${pattern}: ${out}${await stderr}`);
  return ms;
}

const builds = await Promise.all(roots.map(async (root, i) => ({ label: roots.length > 1 ? `${i + 1}: ${gitHead(root)}` : "gw", root, ...(await prepare(root, i)) })));
const hello = join(tmp, "hello");
writeFileSync(`${hello}.ts`, "console.log(1);\n");
if (Bun.spawnSync(["bun", "build", "--compile", `${hello}.ts`, "--outfile", hello], { stdout: "ignore" }).exitCode !== 0) throw new Error("hello-world build failed");

const work = builds[0]!.dir;
const baselines: Target[] = [
  { label: "true|", argv: ["/bin/true"], cwd: work, env: {} },
  { label: "hello|", argv: [hello], cwd: work, env: {} },
];
const targets = [...baselines, ...builds.flatMap((b) => commandsOf(b.label, b))];
const times = new Map<string, Timing>();
demos(builds, ["up", "-d", "--port", "0"]);
try {
  for (const t of targets) await timeOnce(t, new Map()); // warm the page cache: the first run of a 100 MB binary reads it from disk
  for (let r = 0; r < args.rounds; r++) {
    // a different first target each round: none always runs right after the same neighbour
    const order = targets.map((_, i) => targets[(i + r) % targets.length]!);
    for (const t of order) await timeOnce(t, times);
  }
} finally {
  demos(builds, ["down"]);
}

const med = (label: string, k: keyof Timing) => median(times.get(label)![k]);
const ms = (x: number) => x.toFixed(1);
const trueMs = med("true|", "wall");
const helloMs = med("hello|", "wall");
const lines = [
  `rounds: ${args.rounds}; medians; wall = spawn to exit; above hello = wall − the compiled hello-world's`,
  "",
  `| command | ${builds.map((b) => `${b.label} wall / CPU ms | above hello`).join(" | ")} |`,
  `|---|${builds.map(() => "---|---").join("|")}|`,
  `| true | ${builds.map(() => `${ms(trueMs)} / ${ms(med("true|", "cpu"))} | |`).join(" ")}`,
  `| hello (compiled) | ${builds.map(() => `${ms(helloMs)} / ${ms(med("hello|", "cpu"))} | |`).join(" ")}`,
];
for (const name of [...new Set(targets.slice(baselines.length).map((t) => t.label.split("|")[0]!))]) {
  const cells = builds.map((b) => {
    const t = targets.find((x) => x.label === `${name}|${b.label}`)!;
    const wall = med(t.label, "wall") - (t.lessTrue ? trueMs : 0);
    return `${ms(wall)} / ${ms(med(t.label, "cpu"))} | +${ms(wall - helloMs)} (${(wall / helloMs).toFixed(1)}×)`;
  });
  lines.push(`| ${name} | ${cells.join(" | ")} |`);
}

const header = builds.map((b) => `${b.root} (${gitHead(b.root)})`).join("; ");
const printed = lines.length;
console.log(`${header}\n\n${lines.join("\n")}`); // now: the gw up rounds take a while

if (!args["no-up"]) {
  // gw up in demo mode against one gw mock, each from its spawn to the line that says it serves
  const up = new Map<string, number[]>();
  for (let r = 0; r < args["up-rounds"]; r++) {
    for (const b of builds) {
      const env = { ...b.env, XDG_CACHE_HOME: join(b.dir, `.cache-up-${r}`) };
      const push = (k: string, v: number) => up.set(k, [...(up.get(k) ?? []), v]);
      push(`up|${b.label}`, await untilLine([join(b.bin, "gw"), "up", "--port", "0"], /serving on http/, join(b.dir, "work"), env));
      push(`mock|${b.label}`, await untilLine([join(b.bin, "gw"), "mock", "--port", "0"], /listening on/, join(b.dir, "work"), env));
    }
  }
  lines.push("", `gw up (demo, 2 gw mock instances) until "serving on", against one gw mock until "listening on"; ${args["up-rounds"]} rounds, median wall ms`, "");
  lines.push(`| | ${builds.map((b) => b.label).join(" | ")} |`, `|---|${builds.map(() => "---").join("|")}|`);
  lines.push(`| gw mock | ${builds.map((b) => ms(median(up.get(`mock|${b.label}`)!))).join(" | ")} |`);
  lines.push(`| gw up | ${builds.map((b) => ms(median(up.get(`up|${b.label}`)!))).join(" | ")} |`);
}

console.log(lines.slice(printed).join("\n"));
const report = `${header}\n\n${lines.join("\n")}\n`;
if (!args["no-write"]) writeFileSync(join(import.meta.dir, "notes", "startup.md"), `# bun bench/startup.ts, ${new Date().toISOString()}\n\n${report}`);
await children.stop();

function gitHead(root: string): string {
  const head = Bun.spawnSync(["git", "-C", root, "rev-parse", "--short", "HEAD"], { stdout: "pipe" }).stdout.toString().trim();
  const dirty = Bun.spawnSync(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"], { stdout: "pipe" }).stdout.toString().trim();
  return head + (dirty ? "-dirty" : "");
}
