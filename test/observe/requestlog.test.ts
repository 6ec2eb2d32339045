import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMasker } from "../../src/observe/mask.ts";
import { bodyFacts, summarizeRequest, usageRecord } from "../../src/observe/record.ts";
import { createRequestLog, dayOf, type RequestRecord } from "../../src/observe/requestlog.ts";
import { type FullDisk, fullDisk } from "../helpers/full-disk.ts";

const root = mkdtempSync(join(tmpdir(), "gw-requestlog-"));
let n = 0;
const freshDir = () => join(root, `d${n++}`, "logs", "requests");
const disks: FullDisk[] = [];
afterAll(async () => {
  for (const d of disks) await d.close();
  rmSync(root, { recursive: true, force: true });
});

function record(id: string, ts = "2026-11-26T06:00:00.000Z"): RequestRecord {
  return {
    ts,
    id,
    request: { method: "POST", path: "/v1/messages", dialect: "anthropic", messages: 1, roles: { user: 1 }, tools: 0, signed: false, bytes: 10 },
    routing: { route: "g3f", requested: "g3f", upgraded: false, upgrade_reasons: [], sticky: "none", attempts: [], params: [] },
    response: { status: 200, bytes: 5, ms: 3 },
    cooldowns: [],
  };
}

const lines = (file: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RequestRecord);

async function until(cond: () => boolean, what: string) {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await Bun.sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("request log", () => {
  test("one JSON line per record, in the UTC day file, in write order", async () => {
    const dir = freshDir();
    const log = createRequestLog({ dir, retentionDays: 90 });
    for (let i = 0; i < 5; i++) log.write(record(`r${i}`));
    await log.flush();
    expect(lines(join(dir, "2026-11-26.jsonl")).map((r) => r.id)).toEqual(["r0", "r1", "r2", "r3", "r4"]);
    await log.close();
  });

  test("switches files at UTC midnight", async () => {
    const dir = freshDir();
    const log = createRequestLog({ dir, retentionDays: 90 });
    log.write(record("late", "2026-11-26T23:59:59.999Z"));
    log.write(record("early", "2026-11-27T00:00:00.000Z"));
    await log.close();
    expect(lines(join(dir, "2026-11-26.jsonl")).map((r) => r.id)).toEqual(["late"]);
    expect(lines(join(dir, "2026-11-27.jsonl")).map((r) => r.id)).toEqual(["early"]);
    expect(dayOf(Date.UTC(2026, 0, 2, 23, 30))).toBe("2026-01-02");
  });

  test("the timer writes batches without an explicit flush", async () => {
    const dir = freshDir();
    const log = createRequestLog({ dir, retentionDays: 90, flushMs: 20 });
    log.write(record("timed"));
    const file = join(dir, "2026-11-26.jsonl");
    await until(() => existsSync(file) && readFileSync(file, "utf8").includes("timed"), "the timed flush");
    await log.close();
  });

  test("close drains everything, including writes made while a batch is being written", async () => {
    const dir = freshDir();
    const log = createRequestLog({ dir, retentionDays: 90, flushMs: 1 });
    const ids: string[] = [];
    for (let i = 0; i < 2000; i++) {
      ids.push(`r${i}`);
      log.write(record(`r${i}`));
      if (i % 250 === 0) void log.flush();
      if (i % 500 === 0) await Bun.sleep(0);
    }
    await log.close();
    expect(lines(join(dir, "2026-11-26.jsonl")).map((r) => r.id)).toEqual(ids);
  });

  test("lines keep their order and bytes across slabs: multi-byte text, a record bigger than a slab", async () => {
    const dir = freshDir();
    const log = createRequestLog({ dir, retentionDays: 90, flushMs: 60_000 });
    const ids: string[] = [];
    const text = "naïve 日本語 🚀 ".repeat(40); // 1, 2, 3 and 4 UTF-8 bytes per character
    for (let i = 0; i < 4000; i++) {
      const r = record(`r${i}`);
      r.response.error = i === 1234 ? "x".repeat(1_500_000) : text;
      ids.push(r.id);
      log.write(r);
    }
    await log.close();
    const got = lines(join(dir, "2026-11-26.jsonl"));
    expect(got.map((r) => r.id)).toEqual(ids);
    expect(got.every((r, i) => r.response.error === (i === 1234 ? "x".repeat(1_500_000) : text))).toBe(true);
  });

  test("a process that exits without close() still writes its records", async () => {
    const dir = freshDir();
    const script = `
      import { createRequestLog } from ${JSON.stringify(join(import.meta.dir, "../../src/observe/requestlog.ts"))};
      const log = createRequestLog({ dir: ${JSON.stringify(dir)}, retentionDays: 90, flushMs: 60000 });
      for (let i = 0; i < 300; i++) log.write({ ts: "2026-11-26T01:00:00Z", id: "x" + i });
    `;
    const file = join(root, `exit-${n++}.ts`);
    writeFileSync(file, script);
    const proc = Bun.spawn([process.execPath, file], { stdout: "ignore", stderr: "pipe" });
    expect(await proc.exited).toBe(0);
    expect(lines(join(dir, "2026-11-26.jsonl"))).toHaveLength(300);
  });

  test("retention: old day files are deleted at start, recent and foreign files kept", async () => {
    const dir = freshDir();
    const now = Date.parse("2026-11-26T12:00:00Z");
    const log0 = createRequestLog({ dir, retentionDays: 90, now: () => now });
    log0.write(record("seed"));
    await log0.close();
    for (const name of ["2026-08-27.jsonl", "2026-08-28.jsonl", "2026-01-01.jsonl", "notes.txt", "2026-01-01.jsonl.bak"]) {
      writeFileSync(join(dir, name), "{}\n");
    }
    const log = createRequestLog({ dir, retentionDays: 90, now: () => now });
    await until(() => !existsSync(join(dir, "2026-01-01.jsonl")), "the start-up sweep");
    expect(readdirSync(dir).sort()).toEqual(["2026-01-01.jsonl.bak", "2026-08-28.jsonl", "2026-11-26.jsonl", "notes.txt"]);
    expect(await log.sweep()).toEqual([]);
    await log.close();
  });

  test("retention: a day file goes as the UTC day begins that puts it past the retention, not a day after gw started", async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "2026-11-25.jsonl"), "{}\n");
    const midnight = Date.parse("2026-11-27T00:00:00Z");
    const started = Date.now();
    const now = () => midnight - 300 + (Date.now() - started); // 0.3 s before midnight, running
    const log = createRequestLog({ dir, retentionDays: 1, now });
    expect(await log.sweep()).toEqual([]); // 2026-11-25 is within a day of 2026-11-26
    await until(() => !existsSync(join(dir, "2026-11-25.jsonl")), "the sweep at midnight");
    expect(now()).toBeGreaterThanOrEqual(midnight);
    await log.close();
  });

  test("logs/requests, or logs/, a link to another folder's (a cloned folder: -> ~/prod-gw/logs/requests): none of its day files is deleted by the retention sweep, none written (gw lb, which has no gw.log to be refused first), the refusal is said", async () => {
    for (const linked of ["requests", "logs"]) {
      const other = join(root, `other-${n++}`, "logs", "requests");
      mkdirSync(other, { recursive: true });
      writeFileSync(join(other, "2026-01-01.jsonl"), '{"precious":1}\n');
      const dir = freshDir();
      mkdirSync(join(dir, ".."), { recursive: true });
      if (linked === "requests") symlinkSync(other, dir);
      else (rmSync(join(dir, ".."), { recursive: true }), symlinkSync(join(other, ".."), join(dir, "..")));
      const errors: string[] = [];
      const log = createRequestLog({ dir, retentionDays: 90, now: () => Date.parse("2026-11-26T12:00:00Z"), onError: (e) => errors.push((e as Error).message) });
      expect(await log.sweep()).toEqual([]);
      log.write(record("elsewhere?"));
      await log.flush();
      expect(readdirSync(other)).toEqual(["2026-01-01.jsonl"]);
      const link = linked === "requests" ? dir : join(dir, "..");
      expect(errors.at(-1)).toBe(`${link} is a symbolic link; gw does not write through it — remove it and try again`);
      expect(log.problem).toBe(`cannot write ${join(dir, "2026-11-26.jsonl")}: ${link} is a symbolic link; gw does not write through it — remove it and try again`);
      await log.close();
    }
  });

  test("retention 0 keeps everything", async () => {
    const dir = freshDir();
    const log0 = createRequestLog({ dir, retentionDays: 90 });
    log0.write(record("seed"));
    await log0.close();
    writeFileSync(join(dir, "2000-01-01.jsonl"), "{}\n");
    const log = createRequestLog({ dir, retentionDays: 0 });
    expect(await log.sweep()).toEqual([]);
    expect(existsSync(join(dir, "2000-01-01.jsonl"))).toBe(true);
    await log.close();
  });

  test("an unwritable directory is said once, in one line naming the file, and never throws into the request path", async () => {
    const blocker = join(root, `blocker-${n++}`);
    writeFileSync(blocker, "a file, not a directory");
    const said: string[] = [];
    const log = createRequestLog({ dir: join(blocker, "requests"), retentionDays: 90, flushMs: 1, say: { info: (m) => said.push(`info ${m}`), warn: (m) => said.push(`warn ${m}`) } });
    expect(() => log.write(record("lost"))).not.toThrow();
    await log.flush();
    log.write(record("lost too"));
    await log.close();
    const file = join(blocker, "requests", "2026-11-26.jsonl");
    expect(said).toEqual([`warn request log: cannot write ${file}: a file is in the way where a directory belongs; requests are still served, their records are lost until it can be written`]);
    expect(log.problem).toBe(`cannot write ${file}: a file is in the way where a directory belongs`);
  });

  /** A request log on a 1 MiB tmpfs (test/helpers/full-disk.ts), and what it said. */
  async function onSmallDisk() {
    const disk = await fullDisk(join(root, `full${n++}`), join(root, `ctl${n++}`), "1m");
    disks.push(disk);
    const dir = disk.view(join(disk.mount, "requests"));
    const said: string[] = [];
    const log = createRequestLog({ dir, retentionDays: 0, say: { info: (m) => said.push(m), warn: (m) => said.push(m) } });
    return { disk, dir, said, log };
  }

  test("a batch a full disk takes only in part leaves no half line: the lines after the room is back all parse; said once each way", async () => {
    const { disk, dir, said, log } = await onSmallDisk();
    log.write(record("before"));
    await log.flush(); // its page has room left for part of the next batch
    disk.fill();
    for (let i = 0; i < 40; i++) log.write(record(`lost${i}`));
    await log.flush();
    expect(log.problem).toContain("no space left on the device");
    // One record fits in the room the cut-back left on the page: it lands, but the disk is still
    // full — no "written again" for it, and no second "cannot write" for the batch after it.
    log.write(record("fits"));
    await log.flush();
    for (let i = 0; i < 40; i++) log.write(record(`lost${i}`));
    await log.flush();
    expect(log.problem).toContain("no space left on the device");
    expect(said).toHaveLength(1);
    disk.free();
    log.write(record("after"));
    await log.flush();
    expect(log.problem).toBeUndefined();
    expect(lines(join(dir, "2026-11-26.jsonl")).map((r) => r.id)).toEqual(["before", "fits", "after"]);
    expect(said).toHaveLength(2);
    expect(said[1]).toContain("(80 record(s) lost meanwhile)");
    await log.close();
  });

  test("an idle log's full-disk problem ends once there is room, when it is asked — not at a next batch that may not come", async () => {
    const { disk, dir, said, log } = await onSmallDisk();
    disk.fill();
    for (let i = 0; i < 40; i++) log.write(record(`lost${i}`));
    await log.flush();
    const file = join(dir, "2026-11-26.jsonl");
    expect(log.problem).toBe(`cannot write ${file}: no space left on the device`);
    expect(log.problem).toBe(`cannot write ${file}: no space left on the device`); // asked while still full: still so, nothing more said
    expect(said).toHaveLength(1);
    disk.free(); // and no request comes
    expect(log.problem).toBeUndefined();
    expect(said.slice(1)).toEqual([`request log ${file} can be written again (40 record(s) lost meanwhile)`]);
    log.write(record("after"));
    await log.flush();
    expect(lines(file).map((r) => r.id)).toEqual(["after"]);
    expect(said).toHaveLength(2); // the next batch says nothing more
    await log.close();
  });

  test("a full queue drops new records and counts them", async () => {
    const dir = freshDir();
    const log = createRequestLog({ dir, retentionDays: 90, maxQueued: 3, flushMs: 60_000 });
    for (let i = 0; i < 5; i++) log.write(record(`r${i}`));
    expect(log.dropped).toBe(2);
    await log.close();
    expect(lines(join(dir, "2026-11-26.jsonl")).map((r) => r.id)).toEqual(["r0", "r1", "r2"]);
  });
});

describe("log hygiene", () => {
  const CLIENT = "gw-client-key-0123456789abcdef";
  const INSTANCE = "inst-key-fedcba9876543210";
  const PROVIDER = "sk-ant-api03-PROVIDERKEY0123456789";

  test("no secret reaches the file, in headers, URL, error previews or attempts", async () => {
    const dir = freshDir();
    const masker = createMasker([CLIENT, INSTANCE, PROVIDER]);
    const headers = new Headers({ authorization: `Bearer ${CLIENT}`, "x-api-key": INSTANCE, "x-session": PROVIDER });
    const summary = summarizeRequest({
      method: "POST",
      url: `/v1beta/models/gemini-3-flash:streamGenerateContent?alt=sse&key=${CLIENT}`,
      dialect: "gemini",
      model: "gemini-3-flash",
      body: bodyFacts({ contents: [{ role: "user", parts: [] }, { role: "model", parts: [] }], tools: [{ functionDeclarations: [{}, {}] }] }),
      bytes: 1234,
      sessionKey: "cc:5b0c7f7e",
      signed: false,
      stream: true,
      masker,
      headers,
    });
    expect(summary).toMatchObject({ messages: 2, roles: { user: 1, model: 1 }, tools: 2, stream: true, bytes: 1234 });
    expect(summary.user).toMatch(/^[0-9a-f]{12}$/);
    const rec: RequestRecord = {
      ...record("hyg"),
      request: summary,
      routing: {
        ...record("x").routing,
        attempts: [
          { target: "relay/m", instance: "relay", provider: "anthropic", model: "m", status: 401, class: "auth", ms: 4, error: masker.text(`Invalid key ${PROVIDER}`) },
        ],
      },
      response: { status: 401, bytes: 80, ms: 9, error: masker.text(`{"error":"Invalid API key ${INSTANCE}"}`) },
      usage: usageRecord({ input: 10, output: 2 }),
      client: masker.text(CLIENT),
    };
    const log = createRequestLog({ dir, retentionDays: 90 });
    log.write(rec);
    await log.close();
    const text = readFileSync(join(dir, "2026-11-26.jsonl"), "utf8");
    for (const s of [CLIENT, INSTANCE, PROVIDER, "cc:5b0c7f7e"]) expect(text).not.toContain(s);
    expect(text).toContain("gw-cli…cdef");
    expect(JSON.parse(text).usage).toEqual({ input: 10, output: 2 });
  });
});
