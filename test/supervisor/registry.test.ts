// The per-user registry of running gws: real files, real processes for liveness.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { procInfo } from "../../src/supervisor/proc.ts";
import { clientUrl, listRunning, registerRunning, registryDir } from "../../src/supervisor/registry.ts";
import { STALE_TEMP_MS, tempPathFor } from "../../src/fs/temp-files.ts";
import { gw, killAll, sandbox } from "../helpers/supervisor.ts";
import { tempDir } from "../helpers/tmp.ts";

const oldUmask = process.umask();
afterEach(() => process.umask(oldUmask));

describe("registry of running gws", () => {
  test("an entry is private, listed while its process lives, and gone once removed", async () => {
    process.umask(0);
    const env = { XDG_CACHE_HOME: tempDir("gw-reg-") };
    const dir = registryDir(env);
    expect(dir).toBe(join(env.XDG_CACHE_HOME, "gw", "running"));
    const reg = await registerRunning({ kind: "up", config: "/srv/gw/providers.toml", url: "http://127.0.0.1:8145", demo: false }, env);
    const file = join(dir, `${process.pid}.json`);
    expect(lstatSync(dir).mode & 0o777).toBe(0o700);
    expect(lstatSync(file).mode & 0o777).toBe(0o600);
    const listed = await listRunning(env);
    expect(listed).toEqual([
      { pid: process.pid, startTime: (await procInfo(process.pid))!.startTime, kind: "up", config: "/srv/gw/providers.toml", url: "http://127.0.0.1:8145", demo: false, startedAt: expect.any(String) as unknown as string },
    ]);
    await reg.remove();
    expect(existsSync(file)).toBe(false);
    expect(await listRunning(env)).toEqual([]);
  });

  test("entries of dead or reused pids and unreadable files are ignored and removed; other files are left", async () => {
    const env = { XDG_CACHE_HOME: tempDir("gw-reg-") };
    const dir = registryDir(env);
    mkdirSync(dir, { recursive: true });
    const dead = Bun.spawn(["true"]);
    await dead.exited;
    const sleeper = Bun.spawn(["sleep", "30"]);
    try {
      const live = (await procInfo(sleeper.pid))!;
      const entry = (pid: number, startTime: number) => JSON.stringify({ pid, startTime, kind: "up", config: "/x/providers.toml", url: "http://127.0.0.1:1", demo: false, startedAt: "2026-01-01T00:00:00Z" });
      writeFileSync(join(dir, `${dead.pid}.json`), entry(dead.pid, 1));
      writeFileSync(join(dir, `${sleeper.pid}.json`), entry(sleeper.pid, live.startTime + 1)); // same pid, another process
      writeFileSync(join(dir, "999999.json"), "{ not json");
      writeFileSync(join(dir, "README"), "not an entry");
      expect(await listRunning(env)).toEqual([]);
      expect(readdirSync(dir)).toEqual(["README"]);
      // the same live pid with its real start time counts
      writeFileSync(join(dir, `${sleeper.pid}.json`), entry(sleeper.pid, live.startTime));
      expect((await listRunning(env)).map((e) => e.pid)).toEqual([sleeper.pid]);
    } finally {
      sleeper.kill("SIGKILL");
      await sleeper.exited;
    }
  });

  test("clients reach a wildcard bind on loopback; other addresses as they are", () => {
    expect(clientUrl({ url: "http://0.0.0.0:8145" })).toBe("http://127.0.0.1:8145");
    expect(clientUrl({ url: "http://[::]:9000" })).toBe("http://127.0.0.1:9000");
    expect(clientUrl({ url: "http://127.0.0.1:8145" })).toBe("http://127.0.0.1:8145");
    expect(clientUrl({ url: "http://192.0.2.7:8145" })).toBe("http://192.0.2.7:8145");
  });
});

test("the temp of an entry a killed gw was writing (its pid no later gw has) goes when the next gw registers; a fresh one stays", async () => {
  const sb = await sandbox([{ name: "a" }]);
  try {
    const dir = registryDir(sb.env);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const left = (pid: number, ageMs: number) => {
      const tmp = tempPathFor(join(dir, `${pid}.json`));
      writeFileSync(tmp, "{", { mode: 0o600 });
      const t = (Date.now() - ageMs) / 1000;
      utimesSync(tmp, t, t);
      return tmp.split("/").pop()!;
    };
    const stale = left(4_194_301, STALE_TEMP_MS + 60_000);
    const fresh = left(4_194_302, 1_000);
    expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
    const temps = readdirSync(dir).filter((n) => n.includes(".tmp-"));
    expect(temps).toEqual([fresh]);
    expect(temps).not.toContain(stale);
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
  } finally {
    await killAll(sb);
  }
}, 60_000);
