// `gw logs -f` while the gw it follows goes away: gw down ends it cleanly with gw's last lines
// (it used to die on Bun's ECONNRESET error, exit 1, without them), and gw upgrade does not end
// it at all — it goes on with the successor's lines.
import { afterAll, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { ControlCut, controlRequest, ndjsonLines } from "../../src/supervisor/control.ts";
import { linesAfter, logStream } from "../../src/supervisor/logtail.ts";
import { TAIL_END, TAIL_MARK_HEADER } from "../../src/supervisor/tail-mark.ts";
import { tempDir } from "../helpers/tmp.ts";
import { join } from "node:path";
import { recordOf } from "../../src/supervisor/orphans.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";
import { alive, gw, killAll, MAIN, type Sandbox, sandbox, startGw, until } from "../helpers/supervisor.ts";

const cleanups: Sandbox[] = [];
afterAll(async () => {
  for (const sb of cleanups) await killAll(sb);
});

test("linesAfter: the lines after the last one shown of each log; all of a log never shown or gone out of the window", () => {
  const e = (name: string, line: string) => ({ name, line });
  const read = [e("gw", "1"), e("gw", "2"), e("gw", "3"), e("a", "x"), e("a", "y"), e("b", "p")];
  expect(linesAfter(read, new Map([["gw", "2"], ["a", "y"]]))).toEqual([e("gw", "3"), e("b", "p")]);
  expect(linesAfter(read, new Map([["gw", "0"]]))).toEqual(read);
  // a line repeated: the last time it was read counts
  expect(linesAfter([e("a", "x"), e("a", "new"), e("a", "x"), e("a", "z")], new Map([["a", "x"]]))).toEqual([e("a", "z")]);
});

test("gw logs shows a log's control characters escaped (a line cannot retitle or recolour the terminal), tabs as they are; --json as written", async () => {
  const sb = await sandbox();
  mkdirSync(join(sb.dir, "logs"), { recursive: true });
  writeFileSync(join(sb.dir, "logs", "a.log"), "model \u001b]0;pwned\u0007\u001b[31mRED\u001b[0m\n\tat main.go:12\n");
  const r = await gw(sb, ["logs", "a", "-c", sb.file]);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe("model \\u001b]0;pwned\\u0007\\u001b[31mRED\\u001b[0m\n\tat main.go:12\n");
  const json = await gw(sb, ["logs", "a", "--json", "-c", sb.file]);
  expect(json.stdout.trim().split("\n").map((l) => JSON.parse(l).line)).toEqual(["model \u001b]0;pwned\u0007\u001b[31mRED\u001b[0m", "\tat main.go:12"]);
});

test("an answer gw cuts midway (gw restart, gw reload while gw stops) is a ControlCut, a one-line CliError", async () => {
  let pulls = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(ctl) {
      if (pulls++ === 0) ctl.enqueue(new TextEncoder().encode('{"event":"draining"}\n{"par'));
      else ctl.error(Object.assign(new TypeError("ECONNRESET: The socket connection was closed unexpectedly"), { code: "ECONNRESET" }));
    },
  });
  const got: unknown[] = [];
  const err = await (async () => {
    for await (const l of ndjsonLines(body)) got.push(l);
  })().catch((e) => e);
  expect(got).toEqual([{ event: "draining" }]);
  expect(err).toBeInstanceOf(ControlCut);
  expect(err.message).toBe("gw stopped or was upgraded before its answer was complete");
});

test("gw logs -f: gw down ends it with exit 0 and gw's last lines; gw upgrade does not end it", async () => {
  const sb = await sandbox([{ name: "a" }]);
  cleanups.push(sb);
  const up = await gw(sb, ["up", "-d", "-c", sb.file]);
  expect(up.code, up.stdout + up.stderr).toBe(0);

  // Asked with mark, gw itself puts TAIL_END between the lines read back and the follow, and says so
  // in the answer's head (without that, a resuming follower falls back to two requests and loses
  // the lines written between them); asked without, neither.
  const paths = gwPaths(sb.dir);
  const marked = await controlRequest(paths, "/logs?n=1&follow=1&mark=1");
  expect(marked.headers.get(TAIL_MARK_HEADER)).toBe("1");
  const readBack: object[] = [];
  for await (const l of ndjsonLines<object>(marked.body!)) {
    readBack.push(l);
    if ("tailEnd" in l) break;
  }
  expect(readBack.at(-1)).toEqual(TAIL_END);
  expect(readBack.slice(0, -1)).toContainEqual({ name: "gw", line: expect.any(String) });
  const unmarked = await controlRequest(paths, "/logs?n=1");
  expect(unmarked.headers.has(TAIL_MARK_HEADER)).toBe(false);
  expect(await unmarked.text()).not.toContain("tailEnd");

  const old = JSON.parse((await gw(sb, ["status", "--json", "-c", sb.file])).stdout).pid as number;
  const follow = startGw(sb, ["logs", "-f", "-n", "1", "-c", sb.file]);
  await follow.waitFor("gw | "); // it has read the logs to their end
  const upgrade = await gw(sb, ["upgrade", "--json", "-c", sb.file]);
  const successor = JSON.parse(upgrade.stdout) as { ok: boolean; pid: number };
  expect(successor.ok, upgrade.stderr).toBe(true);
  await follow.waitFor("handed over; exiting", 30_000); // the old gw's last line
  // The old gw has exited: what the successor logs from now on still reaches the follower.
  await until(async () => !(await alive(old)), 30_000, () => `old gw ${old} still running`);
  // the restart's "a: ready in", not one said before (a successor says it of the instances it adopts)
  const readyLines = () => follow.output().match(/gw \| \S+ \[\d+\] INFO {2}a: ready in/g)?.length ?? 0;
  const before = readyLines();
  expect((await gw(sb, ["restart", "a", "-c", sb.file])).code).toBe(0);
  await until(() => readyLines() > before, 20_000, () => `no new "a: ready in" in:\n${follow.output()}`);
  expect(follow.output()).not.toContain("ECONNRESET");

  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
  const code = await follow.proc.exited;
  const out = follow.output();
  expect(code, out).toBe(0);
  expect(out).not.toContain("ECONNRESET");
  expect(out).toMatch(/gw \| \S+ \[\d+\] INFO {2}stopping: stopping instances\n/);
  expect(out).toMatch(/gw \| \S+ \[\d+\] INFO {2}stopped\n/);
  expect(out).toContain(`gw stopped for ${sb.dir}: no more lines to follow\n`);
  // nothing shown twice across the hand-over and the stop
  const lines = out.split("\n").filter((l) => l.startsWith("gw | "));
  expect(lines.length).toBe(new Set(lines).size);
}, 120_000);

test("gw logs -f -n 0: no line read back, and at gw down only the lines written since (not the last lines of every log)", async () => {
  const sb = await sandbox([{ name: "a" }, { name: "b" }]);
  cleanups.push(sb);
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  const before = readFileSync(join(sb.dir, "logs", "b.log"), "utf8").trim().split("\n").at(-1)!;
  expect(before).not.toBe(""); // b has said something before the follow: it must not be shown
  const follow = startGw(sb, ["logs", "-f", "-n", "0", "-c", sb.file]);
  // A line written once it follows: the restart's, which shows it is following.
  const readyLines = () => follow.output().match(/a: ready in/g)?.length ?? 0;
  await until(async () => (await gw(sb, ["restart", "a", "-c", sb.file]), readyLines() > 0), 30_000, () => `no "a: ready in" in:\n${follow.output()}`);
  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
  expect(await follow.proc.exited).toBe(0);
  const out = follow.output();
  expect(out).toMatch(/gw \| \S+ \[\d+\] INFO {2}stopped\n/);
  expect(out).not.toContain("serving on"); // said before the follow began
  expect(out).not.toContain(`b | ${before}`); // b said nothing since: its last line read back at the stop is none of the follow's
}, 120_000);

for (const marks of [true, false]) {
  test(`gw logs -f finds the successor when the old gw's socket closes before the successor listens, and ends once no gw lives (${marks ? "a successor that marks where the lines read back end" : "a successor from before that mark"})`, async () => {
    // Two stand-in gws on the control socket, one after the other, so the order is fixed: the old one
    // ends the follow stream (a hand-over), takes the follower's next follow request and closes its
    // socket before answering it — the successor listens only then. The pid file names a live
    // process (this test's) throughout, as it names the successor in a real hand-over. The successor
    // logs a line right after it has read its log back for the follower: one answer that reads back
    // and follows (TAIL_END between) has it; a follow asked for after the read-back starts after it.
    const sb = await sandbox([{ name: "a" }]);
    cleanups.push(sb);
    const paths = gwPaths(sb.dir);
    mkdirSync(paths.logsDir, { recursive: true });
    mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
    writeFileSync(paths.gwLog, "old 1\n");
    writeFileSync(paths.pidFile, `${JSON.stringify(await recordOf("gw", process.pid))}\n`);
    const ndjson = (lines: string[]) => lines.map((line) => `${JSON.stringify({ name: "gw", line })}\n`).join("");
    const logFile = () => readFileSync(paths.gwLog, "utf8").split("\n").filter(Boolean);
    const enc = new TextEncoder();
    /**
     * A stand-in gw: /logs answers the last n lines of gw.log — with `mark` (if `marks`), those, TAIL_END and
     * the follow; without, either the lines or the follow. Each follow is handed to `follow` with its first bytes.
     */
    const standIn = (follow: (first: string) => ReadableStream<Uint8Array>, afterReadBack = () => {}) => {
      rmSync(paths.socket, { force: true });
      return Bun.serve({
        unix: paths.socket,
        ...({ idleTimeout: 0 } as object),
        fetch(req) {
          const url = new URL(req.url);
          const n = Number(url.searchParams.get("n"));
          const readBack = ndjson(logFile().slice(-n));
          if (marks && url.searchParams.has("mark")) {
            const res = new Response(follow(`${readBack}${JSON.stringify(TAIL_END)}\n`), { headers: { [TAIL_MARK_HEADER]: "1" } });
            afterReadBack();
            return res;
          }
          if (url.searchParams.has("follow")) return new Response(follow(""));
          afterReadBack();
          return new Response(readBack);
        },
      });
    };
    let endFirst = () => {};
    const secondFollow = Promise.withResolvers<void>();
    let oldFollows = 0;
    const old = standIn(() =>
      oldFollows++ === 0
        ? new ReadableStream({ start: (ctl) => void (ctl.enqueue(enc.encode(ndjson(["old 1"]))), (endFirst = () => ctl.close())) })
        : new ReadableStream({ start: () => secondFollow.resolve() }), // held without a line: Bun has not even sent the answer's head
    );
    const follower = startGw(sb, ["logs", "-f", "-n", "1", "-c", sb.file]);
    await follower.waitFor("gw | old 1\n");
    // a line of the log that reads as the mark is a log line all the same (every line goes as {name, line})
    appendFileSync(paths.gwLog, `${JSON.stringify(TAIL_END)}\nold handed over\n`);
    endFirst();
    await secondFollow.promise; // the follower reads the lines since and asks to follow again
    old.stop(true);
    const follows: ReadableStreamDefaultController<Uint8Array>[] = [];
    let said = false;
    const successor = standIn(
      // begun at once, as every gw's answer since the empty line of control.ts headAtOnce
      (first) => new ReadableStream({ start: (ctl) => void (ctl.enqueue(enc.encode(`\n${first}`)), follows.push(ctl)) }),
      () => {
        if (said) return;
        said = true;
        appendFileSync(paths.gwLog, "new 0\n"); // the read-back above has not got it: a follow begun by then sends it
        if (marks) follows.at(-1)!.enqueue(enc.encode(ndjson(["new 0"])));
      },
    );
    try {
      await follower.waitFor("gw | old handed over\n");
      // the follower follows the successor: a line it says reaches it
      // (a successor from before the mark is asked to follow twice: the ask with the mark, cancelled, then the follow)
      await until(() => follows.length === (marks ? 1 : 2), 20_000, () => `gw logs -f does not follow the successor:\n${follower.output()}`);
      follows.at(-1)!.enqueue(enc.encode(ndjson(["new 1"])));
      await follower.waitFor("gw | new 1\n");
      // gw down: the last line, then no gw (pid file gone, socket closed)
      appendFileSync(paths.gwLog, "new 1\nstopped\n");
      rmSync(paths.pidFile);
    } finally {
      successor.stop(true);
    }
    const code = await follower.proc.exited;
    const out = follower.output();
    expect(code, out).toBe(0);
    const lost = marks ? "gw | new 0\n" : ""; // without the mark, the line said between the two requests is not shown
    expect(out).toBe(`gw | old 1\ngw | {"tailEnd":true}\ngw | old handed over\n${lost}gw | new 1\ngw | stopped\ngw stopped for ${sb.dir}: no more lines to follow\n`);
  }, 60_000);
}

test("logStream with markTail: the lines read back, TAIL_END, then the lines appended since", async () => {
  const dir = tempDir("gw-tail-");
  const file = join(dir, "gw.log");
  writeFileSync(file, "1\n2\n3\n");
  const stop = new AbortController();
  const lines = ndjsonLines<{ name?: string; line?: string; tailEnd?: true }>(logStream([{ name: "gw", file }], 2, true, stop.signal, (l) => l, true));
  const got = [(await lines.next()).value, (await lines.next()).value, (await lines.next()).value];
  expect(got).toEqual([{ name: "gw", line: "2" }, { name: "gw", line: "3" }, TAIL_END]);
  appendFileSync(file, "4\n");
  expect((await lines.next()).value).toEqual({ name: "gw", line: "4" });
  stop.abort();
  expect((await lines.next()).done).toBe(true);
});

test("gw logs -f | head -1 ends once gw logs writes again (Bun's console.log dropped the EPIPE, so it followed for ever)", async () => {
  const sb = await sandbox([{ name: "a" }]);
  cleanups.push(sb);
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  const cmd = [process.execPath, MAIN, "logs", "gw", "-f", "-n", "1", "-c", sb.file].map((a) => `'${a}'`).join(" ");
  const pipeline = Bun.spawn(["bash", "-c", `${cmd} | head -1; echo "gw logs exit $\{PIPESTATUS[0]}" >&2`], { cwd: sb.dir, env: sb.env, stdout: "pipe", stderr: "pipe" });
  const out = Promise.all([new Response(pipeline.stdout).text(), new Response(pipeline.stderr).text()]);
  let ended = false;
  void pipeline.exited.then(() => (ended = true));
  // head has its one line at once; gw logs learns that nobody reads only when it writes again
  await until(async () => ended || ((await gw(sb, ["restart", "a", "-c", sb.file])).code === 0 && ended), 30_000, () => "gw logs -f still running after head exited");
  const [stdout, stderr] = await out;
  expect(stdout).toMatch(/^\S+Z \[\d+\] INFO {2}[^\n]+\n$/);
  expect(stderr).toBe("gw logs exit 0\n");
}, 60_000);

test("gw logs -f ends at gw down while a gw lb of the same config runs (it has no socket to follow; it kept the follower asking every 50 ms for ever)", async () => {
  const sb = await sandbox([{ name: "a" }]);
  cleanups.push(sb);
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  // consola is quiet under NODE_ENV=test, which bun test sets: the lb's ready line needs production
  const lb = startGw({ dir: sb.dir, env: { ...sb.env, NODE_ENV: "production" } }, ["lb", "-c", sb.file, "--port", "0"]);
  try {
    await lb.waitFor("gw lb listening on");
    const follow = startGw(sb, ["logs", "-f", "-n", "1", "-c", sb.file]);
    await follow.waitFor("gw | ");
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
    let ended = false;
    void follow.proc.exited.then(() => (ended = true));
    await until(() => ended, 30_000, () => `gw logs -f still running after gw down:\n${follow.output()}`);
    expect(await follow.proc.exited, follow.output()).toBe(0);
    expect(follow.output()).toContain(`gw stopped for ${sb.dir}: no more lines to follow\n`);
  } finally {
    lb.proc.kill("SIGTERM");
    await lb.proc.exited;
  }
}, 90_000);

test("gw logs -f whose reader stops (Ctrl-Z): what is logged meanwhile waits in the log file, not in gw's memory; resumed, every line arrives", async () => {
  const sb = await sandbox([{ name: "a" }]);
  cleanups.push(sb);
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  const gwPid = (JSON.parse((await gw(sb, ["status", "--json", "-c", sb.file])).stdout) as { pid: number }).pid;
  const log = join(sb.dir, "logs", "a.log");
  const out = join(sb.dir, "followed.txt");
  const follower = Bun.spawn(["sh", "-c", `exec "${process.execPath}" "${MAIN}" logs -f a -n 0 -c "${sb.file}" > "${out}"`], { env: sb.env, stdin: "ignore", stderr: "ignore" });
  try {
    // Following once a line written now arrives.
    await until(() => (appendFileSync(log, "follow-check\n"), existsSync(out) && readFileSync(out, "utf8").includes("follow-check")), 30_000, () => "the follower shows nothing");
    process.kill(follower.pid, "SIGSTOP");
    const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${gwPid}/status`, "utf8"))![1]);
    const before = rssKb();
    const line = `${"x".repeat(99)}\n`;
    const chunk = line.repeat((8 << 20) / line.length); // 8 MiB of 100-byte lines
    for (let i = 0; i < 12; i++) appendFileSync(log, chunk); // 96 MiB a stopped reader cannot take
    await Bun.sleep(2000); // eight of follow's polls: a follow that reads without regard to its reader has read it all by now
    const grownMb = (rssKb() - before) / 1024;
    console.log(`gw's RSS while its follower is stopped and 96 MiB are logged: +${grownMb.toFixed(1)} MB`);
    expect(grownMb).toBeLessThan(40);
    process.kill(follower.pid, "SIGCONT");
    // gw logs -f a prints each line of a's log as it is
    const expected = 12 * chunk.length;
    await until(() => statSync(out).size >= expected, 60_000, () => `${statSync(out).size} of ${expected} bytes arrived`);
    expect((readFileSync(out, "utf8").match(/^x{99}$/gm) ?? []).length).toBe(expected / line.length);
  } finally {
    follower.kill();
    await follower.exited;
  }
  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
}, 120_000);
