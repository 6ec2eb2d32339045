// A cloned (or unpacked) folder can carry anything under the names gw keeps its own files by —
// .gw/keys.json, .gw/instances.json, instances/NAME.yaml, logs/, logs/requests/DAY.jsonl — and
// under providers.toml itself: a FIFO (a read that never returns), a link to /dev/zero (one
// that never ends), a link out of the folder. gw, run there, answers and never waits on one.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { appendFileSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gw, killAll, processesIn, type Sandbox, sandbox } from "../helpers/supervisor.ts";
import { killRunningGw, runGw, tempDir, tempFiles } from "../helpers/tmp.ts";

afterEach(killRunningGw); // a gw blocked on a FIFO must not outlive a failing test
const boxes: Sandbox[] = [];
afterAll(async () => {
  for (const sb of boxes) await killAll(sb);
});

const TOML = `[global]
host = "127.0.0.1"
main_port = 39101

[instances.a]
port = 39102
providers = [{ type = "antigravity" }]

[routing]
"m" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }]
`;

const mkfifo = (path: string) => expect(Bun.spawnSync(["mkfifo", path]).exitCode).toBe(0);

function folder(): { dir: string; file: string; gw: (args: string[]) => ReturnType<typeof runGw> } {
  const dir = tempFiles({ "providers.toml": TOML });
  const file = join(dir, "providers.toml");
  const env = { XDG_CACHE_HOME: join(dir, "cache"), XDG_DATA_HOME: join(dir, "data"), GW_CONFIG: undefined };
  return { dir, file, gw: (args) => runGw([...args, "-c", file], { env }) };
}

describe("gw's own files in the folder, planted", () => {
  test("a FIFO as .gw/keys.json or instances/a.yaml: gw gen writes its own in its place", async () => {
    for (const planted of [".gw/keys.json", "instances/a.yaml"]) {
      const f = folder();
      mkdirSync(join(f.dir, planted, ".."), { mode: 0o700 });
      mkfifo(join(f.dir, planted));
      const r = await f.gw(["gen"]);
      expect(r.code).toBe(0);
      expect(lstatSync(join(f.dir, planted)).isFile()).toBe(true);
      expect(readFileSync(join(f.dir, "instances/a.yaml"), "utf8")).toContain(JSON.parse(readFileSync(join(f.dir, ".gw/keys.json"), "utf8")).a);
    }
  });

  test("a FIFO as .gw/instances.json and .gw/gw.pid: gw down says nothing runs", async () => {
    const f = folder();
    mkdirSync(join(f.dir, ".gw"), { mode: 0o700 });
    mkfifo(join(f.dir, ".gw/instances.json"));
    mkfifo(join(f.dir, ".gw/gw.pid"));
    const r = await f.gw(["down"]);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toContain("gw is not running for");
  });

  test("gw logs of a config that does not load, with a FIFO as .gw/keys.json (the masker reads what gw wrote): the logs are shown", async () => {
    const f = folder();
    writeFileSync(f.file, `${TOML}\n[broken\n`);
    mkdirSync(join(f.dir, ".gw"), { mode: 0o700 });
    mkfifo(join(f.dir, ".gw/keys.json"));
    mkdirSync(join(f.dir, "logs"), { mode: 0o700 });
    writeFileSync(join(f.dir, "logs/gw.log"), "hello from gw\n");
    const r = await f.gw(["logs"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("gw | hello from gw\n");
  });
});

describe("the control socket", () => {
  test("a link as .gw/gw.sock, or .gw a link, to a socket someone else listens on: gw status and gw down refuse it in one line, and it hears nothing", async () => {
    const heard: string[] = [];
    const elsewhere = tempDir();
    const server = Bun.serve({ unix: join(elsewhere, "gw.sock"), fetch: (req) => (heard.push(`${req.method} ${new URL(req.url).pathname}`), Response.json({ pid: 4242 })) });
    try {
      for (const plant of [(dir: string) => (mkdirSync(join(dir, ".gw"), { mode: 0o700 }), symlinkSync(join(elsewhere, "gw.sock"), join(dir, ".gw/gw.sock"))), (dir: string) => symlinkSync(elsewhere, join(dir, ".gw"))]) {
        const f = folder();
        plant(f.dir);
        const linked = lstatSync(join(f.dir, ".gw")).isSymbolicLink() ? join(f.dir, ".gw") : join(f.dir, ".gw/gw.sock");
        for (const cmd of ["status", "down"]) {
          const r = await f.gw([cmd]);
          expect(r.code).toBe(1);
          expect(r.stderr).toBe(`gw: ${linked} is a symbolic link; gw does not send its commands through it — remove it and try again\n`);
        }
      }
      expect(heard).toEqual([]);
    } finally {
      server.stop(true);
    }
  });
});

describe("gw logs reads only the regular files of a real logs/", () => {
  test("a FIFO, a directory and a link out under logs/ are left out; the logs gw wrote are shown", async () => {
    const f = folder();
    mkdirSync(join(f.dir, "logs"), { mode: 0o700 });
    writeFileSync(join(f.dir, "logs/gw.log"), "hello from gw\n");
    mkfifo(join(f.dir, "logs/a.log"));
    mkdirSync(join(f.dir, "logs/b.log"));
    writeFileSync(join(f.dir, "outside.txt"), "a line of someone else's\n");
    symlinkSync(join(f.dir, "outside.txt"), join(f.dir, "logs/c.log"));
    const r = await f.gw(["logs"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("gw | hello from gw\n");
  });

  test("logs/ a link to a directory elsewhere (gw never writes its logs through one): refused in one line naming it, nothing of it shown", async () => {
    const f = folder();
    const elsewhere = tempDir();
    writeFileSync(join(elsewhere, "notes.log"), "a line of someone else's\n");
    symlinkSync(elsewhere, join(f.dir, "logs"));
    const r = await f.gw(["logs"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`gw: ${join(f.dir, "logs")} is a symbolic link; gw does not read logs through it — remove it and try again\n`);
  });
});

describe("gw usage reads only regular day files, line by bounded line", () => {
  const today = new Date().toISOString().slice(0, 10);

  test("a FIFO, or a link to /dev/zero, as today's day file: not a log file, not waited on", async () => {
    for (const plant of [(p: string) => mkfifo(p), (p: string) => symlinkSync("/dev/zero", p)]) {
      const f = folder();
      mkdirSync(join(f.dir, "logs/requests"), { recursive: true });
      plant(join(f.dir, `logs/requests/${today}.jsonl`));
      const r = await f.gw(["usage", "--json"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ files: 0, records: 0, bad_lines: 0 });
    }
  });

  test("gw up with request_log on and a FIFO as today's day file (it seeds the status page's tokens from it): gw down stops it", async () => {
    const sb = await sandbox([{ name: "a" }], "request_log = true");
    boxes.push(sb);
    mkdirSync(join(sb.dir, "logs/requests"), { recursive: true, mode: 0o700 });
    mkfifo(join(sb.dir, `logs/requests/${today}.jsonl`));
    expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
    // Before, the seeding's read never returned, and gw did not stop: gw down waited for ever.
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
    expect(await processesIn(sb.dir)).toEqual([]);
  }, 60_000);

  test("a day file of 256 MiB with no newline (a link to a disk image, say): one bad line, the line after it read, memory bounded", async () => {
    const f = folder();
    mkdirSync(join(f.dir, "logs/requests"), { recursive: true });
    const day = join(f.dir, `logs/requests/${today}.jsonl`);
    writeFileSync(day, "");
    truncateSync(day, 256 << 20); // sparse: no disk used
    appendFileSync(day, "\n{}\n");
    // Before, the unended line grew as one string: over 60 s and 1.7 GB of memory, killed here by the test's timeout.
    const r = await f.gw(["usage", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ files: 1, records: 0, bad_lines: 2 });
  });
});

describe("providers.toml itself", () => {
  test("a FIFO or a link to /dev/zero: gw cliproxy version says the config has errors, never waits on it", async () => {
    for (const plant of [(p: string) => mkfifo(p), (p: string) => symlinkSync("/dev/zero", p)]) {
      const f = folder();
      rmSync(f.file);
      plant(f.file);
      const r = await f.gw(["cliproxy", "version"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("providers.toml has errors, so its [global] cliproxy is unknown");
    }
  });
});

describe("the state file", () => {
  test(".gw/state.db a link to a file of the user's: gw up serves with state in memory, says so in one line and in gw status, and the file is untouched", async () => {
    const sb = await sandbox([{ name: "a" }]);
    boxes.push(sb);
    const victim = join(sb.dir, "precious.db");
    writeFileSync(victim, "");
    mkdirSync(join(sb.dir, ".gw"), { mode: 0o700 });
    const link = join(sb.dir, ".gw/state.db");
    symlinkSync(victim, link);
    const why = `${link} is a symbolic link; gw does not write through it — remove it and try again`;
    const up = await gw(sb, ["up", "-d", "-c", sb.file]);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`state file: ${why}; state is kept in memory only`);
    const status = await gw(sb, ["status", "-c", sb.file]);
    expect(status.stdout).toContain(`state   local ${link}  DOWN`);
    expect(status.stdout).toContain(why);
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
    // Before, SQLite wrote gw's tables through the link: the empty file grew to 24,576 bytes.
    expect(readFileSync(victim, "utf8")).toBe("");
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  }, 60_000);
});

describe("a .env in an instance's working directory", () => {
  test("gw check: an error naming instances/a/.env and what CLIProxyAPI would do with it", async () => {
    const f = folder();
    const env = join(f.dir, "instances/a/.env");
    mkdirSync(join(env, ".."), { recursive: true, mode: 0o700 });
    writeFileSync(env, "PGSTORE_DSN=postgresql://someone:else@elsewhere.example/db\n");
    const r = await f.gw(["check"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`instances.a  error: ${env}: CLIProxyAPI loads a .env in its working directory into its environment (GITSTORE_*, PGSTORE_* or OBJECTSTORE_* there send its logins to a remote store); gw writes none there  (remove it: gw passes instances its own environment)`);
    const json = JSON.parse((await f.gw(["check", "--json"])).stdout) as { ok: boolean; counts: unknown };
    expect(json.ok).toBe(false);
    // a script tells the folder's error from the file's, as the summary line does
    expect(json.counts).toEqual({ file: { errors: 0, warnings: 0 }, folder: { errors: 1 }, machine: { logins_missing: 1 } });
  });
});
