// gw's private files, attacked on real files: planted links (to a file, to a directory), a FIFO,
// loose modes left by an old gw, and an open umask. Each case checks the victim is untouched.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { replaceFileSync, tempPathFor, writeFileAtomic, writeNewFileSync, writePrivateFile } from "../../src/fs/atomic-write.ts";
import { appendPrivate, ensurePrivateDir, openPrivateAppend, UnsafePathError } from "../../src/fs/private.ts";
import { createRequestLog, type RequestRecord } from "../../src/observe/requestlog.ts";
import { listenPrivately } from "../../src/supervisor/control.ts";
import { rotateIfLarge } from "../../src/supervisor/rotate.ts";
import { tempDir } from "../helpers/tmp.ts";
import { closeSync, writeSync } from "node:fs";

const mode = (p: string) => lstatSync(p).mode & 0o777;

/** A directory holding a victim file (and dir) that must never change. */
function scene() {
  const dir = tempDir("gw-private-");
  const victim = join(dir, "victim.txt");
  writeFileSync(victim, "precious\n");
  chmodSync(victim, 0o644);
  const victimDir = join(dir, "elsewhere");
  mkdirSync(victimDir);
  const logs = join(dir, "cfg", "logs");
  return { dir, victim, victimDir, logs, untouched: () => readFileSync(victim, "utf8") === "precious\n" && mode(victim) === 0o644 && readdirSync(victimDir).length === 0 };
}

const oldUmask = process.umask();
afterEach(() => process.umask(oldUmask));

describe("private directories and files, whatever the umask", () => {
  test("under umask 000: directories 0700, logs 0600, atomic private writes 0600", async () => {
    process.umask(0);
    const s = scene();
    const fd = openPrivateAppend(join(s.logs, "gw.log"));
    closeSync(fd);
    expect(mode(join(s.dir, "cfg"))).toBe(0o700); // created by the recursive mkdir: private too
    expect(mode(s.logs)).toBe(0o700);
    expect(mode(join(s.logs, "gw.log"))).toBe(0o600);
    await writePrivateFile(join(s.dir, "cfg", ".gw", "keys.json"), "{}");
    expect(mode(join(s.dir, "cfg", ".gw"))).toBe(0o700);
    expect(mode(join(s.dir, "cfg", ".gw", "keys.json"))).toBe(0o600);
    await appendPrivate(join(s.logs, "2026-01-01.jsonl"), "{}\n");
    expect(mode(join(s.logs, "2026-01-01.jsonl"))).toBe(0o600);
  });

  test("a directory and log left open by an older gw are made private on the next open", () => {
    const s = scene();
    mkdirSync(s.logs, { recursive: true });
    chmodSync(s.logs, 0o777);
    writeFileSync(join(s.logs, "a.log"), "old line\n");
    chmodSync(join(s.logs, "a.log"), 0o666);
    closeSync(openPrivateAppend(join(s.logs, "a.log")));
    expect(mode(s.logs)).toBe(0o700);
    expect(mode(join(s.logs, "a.log"))).toBe(0o600);
    expect(readFileSync(join(s.logs, "a.log"), "utf8")).toBe("old line\n");
  });

  test("the control socket has no group or other bits from the moment it listens (no chmod window)", () => {
    process.umask(0);
    const s = scene();
    const stateDir = join(s.dir, "cfg", ".gw");
    mkdirSync(stateDir, { recursive: true, mode: 0o777 });
    chmodSync(stateDir, 0o777); // as an old gw under umask 000 left it
    const socket = join(stateDir, "gw.sock");
    const seen: number[] = [];
    const server = listenPrivately(socket, (unix) => {
      const srv = Bun.serve({ unix, fetch: () => new Response("ok") });
      // Inside the same synchronous step as the bind: nothing could have chmod'ed anything yet.
      seen.push(mode(unix), mode(stateDir));
      return srv;
    });
    try {
      expect(seen).toEqual([0o600, 0o700]);
      expect(process.umask()).toBe(0); // the process umask is back as it was
    } finally {
      server.stop(true);
    }
  });

  test("a .gw that is a link is refused before anything is created in it", () => {
    const s = scene();
    mkdirSync(join(s.dir, "cfg"));
    symlinkSync(s.victimDir, join(s.dir, "cfg", ".gw"));
    expect(() => listenPrivately(join(s.dir, "cfg", ".gw", "gw.sock"), () => Bun.serve({ unix: join(s.dir, "cfg", ".gw", "gw.sock"), fetch: () => new Response("") }))).toThrow(UnsafePathError);
    expect(() => ensurePrivateDir(join(s.dir, "cfg", ".gw"))).toThrow(`${join(s.dir, "cfg", ".gw")} is a symbolic link`);
    expect(s.untouched()).toBe(true);
  });
});

describe("planted links in logs/ are never followed", () => {
  test("appending (gw.log, instance logs): a link to a file, a dangling link, a FIFO — one clear error, nothing written", async () => {
    const s = scene();
    mkdirSync(s.logs, { recursive: true });
    symlinkSync(s.victim, join(s.logs, "gw.log"));
    symlinkSync(join(s.dir, "does-not-exist-yet"), join(s.logs, "a.log"));
    Bun.spawnSync(["mkfifo", join(s.logs, "b.log")]);
    for (const [name, what] of [["gw.log", "is a symbolic link"], ["a.log", "is a symbolic link"], ["b.log", "is not a regular file"]] as const) {
      const file = join(s.logs, name);
      expect(() => openPrivateAppend(file)).toThrow(`${file} ${what}; gw does not write through it — remove it and try again`);
      expect(appendPrivate(file, "x")).rejects.toThrow(UnsafePathError);
    }
    expect(existsSync(join(s.dir, "does-not-exist-yet"))).toBe(false);
    expect(s.untouched()).toBe(true);
  });

  test("a log with a second name (cp -al): both appenders take their own name back for a new file; the other name keeps its lines and its mode", async () => {
    const s = scene();
    mkdirSync(s.logs, { recursive: true });
    const [a, day] = [join(s.logs, "a.log"), join(s.logs, "2026-12-02.jsonl")];
    linkSync(s.victim, a);
    linkSync(s.victim, day);
    closeSync(openPrivateAppend(a));
    await appendPrivate(day, "line\n");
    expect(s.untouched()).toBe(true);
    expect([statSync(s.victim).nlink, statSync(a).nlink, statSync(day).nlink]).toEqual([1, 1, 1]);
    expect([readFileSync(a, "utf8"), readFileSync(day, "utf8"), mode(a), mode(day)]).toEqual(["", "line\n", 0o600, 0o600]);
  });

  test("a logs/ directory that is a link is refused", () => {
    const s = scene();
    mkdirSync(join(s.dir, "cfg"));
    symlinkSync(s.victimDir, s.logs);
    expect(() => openPrivateAppend(join(s.logs, "gw.log"))).toThrow(`${s.logs} is a symbolic link`);
    expect(s.untouched()).toBe(true);
  });

  test("rotation: a log that is a link is neither copied nor truncated; a planted X.log.1 link is replaced, not written through", async () => {
    const s = scene();
    mkdirSync(s.logs, { recursive: true });
    writeFileSync(s.victim, "precious\n".repeat(100)); // big enough to be "rotated"
    const big = "precious\n".repeat(100);
    symlinkSync(s.victim, join(s.logs, "gw.log"));
    expect(rotateIfLarge(join(s.logs, "gw.log"), 10, 3)).rejects.toThrow(`${join(s.logs, "gw.log")} is a symbolic link`);
    expect(readFileSync(s.victim, "utf8")).toBe(big);
    expect(existsSync(join(s.logs, "gw.log.1"))).toBe(false);

    const log = join(s.logs, "a.log");
    writeFileSync(log, "line\n".repeat(50));
    symlinkSync(s.victim, `${log}.1`); // the copy target
    symlinkSync(s.victim, `${log}.2`); // shifted by rename, never opened
    expect(await rotateIfLarge(log, 200, 3)).toBe(true); // 250 bytes: past the cap, kept whole
    expect(readFileSync(s.victim, "utf8")).toBe(big);
    expect(lstatSync(`${log}.1`).isFile()).toBe(true);
    expect(readFileSync(`${log}.1`, "utf8")).toBe("line\n".repeat(50));
    expect(mode(`${log}.1`)).toBe(0o600);
    expect(lstatSync(`${log}.3`).isSymbolicLink()).toBe(true); // the old .2 link moved along, harmless
    expect(readFileSync(log, "utf8")).toBe("");
    expect(readdirSync(s.logs).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });

  test("request log day files and a linked logs/requests: the error is reported, nothing lands elsewhere", async () => {
    const s = scene();
    const record = (ts: string) => ({ ts, id: "r1", request: {}, routing: {}, response: {}, cooldowns: [] }) as unknown as RequestRecord;
    const dayDir = join(s.logs, "requests");
    mkdirSync(dayDir, { recursive: true });
    symlinkSync(s.victim, join(dayDir, "2026-11-26.jsonl"));
    const errors: string[] = [];
    // A day file that cannot be written is said in gw.log's words (fs/why.ts writeProblem), via `say`.
    const said = (into: string[]) => ({ info() {}, warn: (m: string) => into.push(m) });
    const log = createRequestLog({ dir: dayDir, retentionDays: 0, say: said(errors) });
    log.write(record("2026-11-26T06:00:00.000Z"));
    log.write(record("2026-11-27T06:00:00.000Z")); // the next day's file is ordinary
    await log.close();
    const day = join(dayDir, "2026-11-26.jsonl");
    expect(errors).toEqual([`request log: cannot write ${day}: ${day} is a symbolic link; gw does not write through it — remove it and try again; requests are still served, their records are lost until it can be written`]);
    expect(readFileSync(join(dayDir, "2026-11-27.jsonl"), "utf8")).toContain('"id":"r1"');
    expect(mode(join(dayDir, "2026-11-27.jsonl"))).toBe(0o600);

    const linked = join(s.dir, "cfg2", "logs", "requests");
    mkdirSync(join(s.dir, "cfg2", "logs"), { recursive: true });
    symlinkSync(s.victimDir, linked);
    const errors2: string[] = [];
    const log2 = createRequestLog({ dir: linked, retentionDays: 0, say: said(errors2) });
    log2.write(record("2026-11-26T06:00:00.000Z"));
    await log2.close();
    expect(errors2[0]).toContain(`${linked} is a symbolic link; gw does not write through it — remove it and try again`);
    expect(s.untouched()).toBe(true);
  });
});

describe("temp files are exclusive and unpredictable", () => {
  test("a fresh random name every time", () => {
    const names = new Set(Array.from({ length: 100 }, () => tempPathFor("/x/gw")));
    expect(names.size).toBe(100);
    for (const n of names) expect(n).toMatch(/^\/x\/gw\.tmp-[A-Za-z0-9_-]{12}$/);
  });

  test("a link planted under the temp name is refused (EEXIST), never written through", () => {
    const s = scene();
    const tmp = join(s.dir, "planted");
    symlinkSync(s.victim, tmp);
    expect(() => writeNewFileSync(tmp, "attack")).toThrow("EEXIST");
    expect(s.untouched()).toBe(true);
  });

  test("replacing a file that is a link replaces the link, not its target", async () => {
    const s = scene();
    const dest = join(s.dir, "dest");
    symlinkSync(s.victim, dest);
    replaceFileSync(dest, (tmp) => writeNewFileSync(tmp, "new"), 0o644);
    expect(lstatSync(dest).isFile()).toBe(true);
    expect(readFileSync(dest, "utf8")).toBe("new");
    const dest2 = join(s.dir, "dest2");
    symlinkSync(s.victim, dest2);
    await writeFileAtomic(dest2, "new2", 0o600);
    expect(readFileSync(dest2, "utf8")).toBe("new2");
    expect(statSync(dest2).mode & 0o777).toBe(0o600);
    expect(s.untouched()).toBe(true);
    expect(readdirSync(s.dir).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });
});

// A writer that keeps the fd (like an instance's stdout) keeps appending after the open checks.
test("an opened private log is an ordinary append descriptor", () => {
  const s = scene();
  const fd = openPrivateAppend(join(s.logs, "x.log"));
  writeSync(fd, "a\n");
  writeSync(fd, "b\n");
  closeSync(fd);
  expect(readFileSync(join(s.logs, "x.log"), "utf8")).toBe("a\nb\n");
});
