// A full disk refuses a checkpoint of the state file as it refuses gw's own writes: that is the
// disk's trouble, not the checkpoint worker's — it checkpoints again once there is room, and gw
// says nothing more than its writes already say. A real full disk: a 3 MiB tmpfs in a user and
// mount namespace of the runner's own (full-disk-runner.ts).
import { expect, test } from "bun:test";
import { join } from "node:path";
import { tempDir } from "../helpers/tmp.ts";

test("a checkpoint the full disk refused does not end the worker: it checkpoints again once there is room", async () => {
  const dir = tempDir("gw-ckpt-full-");
  const runner = join(import.meta.dir, "full-disk-runner.ts");
  const p = Bun.spawn(["unshare", "-Urm", "sh", "-c", 'mount -t tmpfs -o size=3m tmpfs "$0" && exec "$@"', dir, process.execPath, runner, dir], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`the runner (needs unshare -Urm and a tmpfs mount) exited ${code}: ${err}`);
  const r = JSON.parse(out) as { first: boolean; refused: boolean; again: boolean; missed: number; lines: string[] };
  // gw's own writes may or may not have met the full disk too; the worker gave no warning.
  expect(r.lines.filter((l) => l.includes("checkpoint"))).toEqual([]);
  expect(r).toMatchObject({ first: true, refused: true, again: true });
  expect(r.missed).toBeGreaterThan(0);
}, 60_000);
