// Temp files a killed writer left between its stage and its rename (`NAME.tmp-XXXXXXXXXXXX`, 0600,
// or a link gw install and gw cliproxy install make) are cleaned the next time gw writes in that
// folder, whichever file it writes — but never the file of a writer in the middle right now,
// never a file that is not gw's temp, nothing deeper than the folder, and never through a link.
import { describe, expect, test } from "bun:test";
import { lutimesSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import { writeLast } from "../../src/cld/memory.ts";
import { replaceFileSync, stageFile, writeFileAtomic, writeNewFileSync, writePrivateFile } from "../../src/fs/atomic-write.ts";
import { STALE_TEMP_MS, tempPathFor } from "../../src/fs/temp-files.ts";
import { withInstanceKeys, writeInstanceFiles } from "../../src/instances/index.ts";
import { EVERY_OLD_KEY } from "../config/fixtures.ts";
import { tempDir } from "../helpers/tmp.ts";

/** A file at `path` last written `ageMs` ago. */
function aged(path: string, ageMs: number, text = "left by a killed writer"): string {
  writeFileSync(path, text, { mode: 0o600 });
  const t = (Date.now() - ageMs) / 1000;
  utimesSync(path, t, t);
  return path;
}

const STALE = STALE_TEMP_MS + 60_000;
const names = (dir: string) => readdirSync(dir).sort();

describe("stale temp files", () => {
  test("gw writing instance files: a stale temp goes (an old instance's too, a link too), a writer's fresh one stays and still renames in, others stay, a link's target is untouched", async () => {
    const dir = tempDir();
    const config = await withInstanceKeys(parseConfig(EVERY_OLD_KEY, join(dir, "providers.toml"), { RELAY_KEY: "sk-relay" }).config!);
    await writeInstanceFiles(config);
    const inst = join(dir, "instances");
    const official = join(inst, "official.yaml");
    const stale = aged(tempPathFor(official), STALE);
    const removedInstance = aged(tempPathFor(join(inst, "gone.yaml")), STALE);
    // Another writer (a gw gen, a reload) between its stage and its rename at this moment.
    const inFlight = await stageFile(official, "written by the other writer\n", 0o600);
    const notOurs = [aged(join(inst, "notes.txt"), STALE), aged(join(inst, "official.yaml.tmp-short"), STALE), aged(join(inst, "official.yaml.bak"), STALE)];
    const victim = aged(join(dir, "victim"), STALE, "precious");
    const link = join(inst, "relay.yaml.tmp-AAAAAAAAAAAA");
    symlinkSync(victim, link);
    lutimesSync(link, (Date.now() - STALE) / 1000, (Date.now() - STALE) / 1000); // the link itself is old too
    const tempLike = join(inst, "relay.yaml.tmp-BBBBBBBBBBBB");
    mkdirSync(tempLike);
    utimesSync(tempLike, (Date.now() - STALE) / 1000, (Date.now() - STALE) / 1000);

    await writeInstanceFiles(config);
    const left = names(inst);
    expect(left).not.toContain(stale.split("/").pop());
    expect(left).not.toContain(removedInstance.split("/").pop());
    expect(left).not.toContain(link.split("/").pop()); // unlinked: a link named so is gw's own temp, or planted
    for (const p of [inFlight, ...notOurs, tempLike]) expect(left).toContain(p.split("/").pop()!);
    expect(readFileSync(victim, "utf8")).toBe("precious");
    renameSync(inFlight, official); // the other writer finishes
    expect(readFileSync(official, "utf8")).toBe("written by the other writer\n");
  });

  test("a write in a folder of gw's own (private, cld's memory) cleans the stale temps there, any file's (one no longer written too), and nothing else", async () => {
    const dir = tempDir();
    const file = join(dir, "keys.json");
    const stale = [aged(tempPathFor(file), STALE), aged(tempPathFor(join(dir, "gw.pid")), STALE), aged(tempPathFor(join(dir, "4242.json")), STALE)];
    const fresh = aged(tempPathFor(join(dir, "gw.pid")), 1_000);
    const notOurs = [aged(join(dir, "gw.pid.tmp-short"), STALE), aged(join(dir, "notes.tmp-AAAAAAAAAAAAA"), STALE)];
    mkdirSync(join(dir, "deeper"));
    const deeper = aged(tempPathFor(join(dir, "deeper", "x.json")), STALE);
    await writePrivateFile(file, "{}\n");
    expect(names(dir)).toEqual([file, fresh, ...notOurs, join(dir, "deeper")].map((p) => p.split("/").pop()!).sort());
    expect(readdirSync(join(dir, "deeper"))).toEqual([deeper.split("/").pop()!]);
    for (const p of stale) aged(p, STALE);
    writeLast(dir, { model: "opus" }); // cld's memory, synchronously: the same sweep
    expect(names(dir).filter((n) => n.includes(".tmp-"))).toEqual([fresh, ...notOurs].map((p) => p.split("/").pop()!).sort());
  });

  test("a write in a folder gw shares with the user (home, ~/.local/bin, the config's) cleans only its own file's stale temps: a user's notes.tmp-abcdefghijkl stays", async () => {
    const dir = tempDir();
    const file = join(dir, ".claude.json");
    const own = aged(tempPathFor(file), STALE);
    const users = [aged(join(dir, "notes.tmp-abcdefghijkl"), STALE, "the user's"), aged(tempPathFor(join(dir, ".bashrc")), STALE, "another tool's")];
    await writeFileAtomic(file, "{}\n", 0o600);
    replaceFileSync(join(dir, "cld"), (tmp) => writeNewFileSync(tmp, "x"), 0o755);
    expect(names(dir)).toEqual([file, join(dir, "cld"), ...users].map((p) => p.split("/").pop()!).sort());
    for (const p of users) expect(readFileSync(p, "utf8")).not.toBe("");
  });
});
