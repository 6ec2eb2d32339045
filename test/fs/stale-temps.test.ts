// Temp files a killed writer left between its stage and its rename (`NAME.tmp-XXXXXXXXXXXX`, 0600)
// are cleaned where gw writes again — but never the file of a writer in the middle right now,
// never a file that is not gw's temp, and never through a link.
import { describe, expect, test } from "bun:test";
import { lutimesSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config/index.ts";
import { stageFile, writeFileAtomic, writePrivateFile } from "../../src/fs/atomic-write.ts";
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
  test("gw writing instance files: a stale temp goes (an old instance's too), a writer's fresh one stays and still renames in, others stay, a link is not followed", async () => {
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
    for (const p of [inFlight, ...notOurs, link, tempLike]) expect(left).toContain(p.split("/").pop()!);
    expect(readFileSync(victim, "utf8")).toBe("precious");
    renameSync(inFlight, official); // the other writer finishes
    expect(readFileSync(official, "utf8")).toBe("written by the other writer\n");
  });

  test("every atomic write cleans its own file's stale temps, and only those", async () => {
    const dir = tempDir();
    const file = join(dir, "instances.json");
    const stale = aged(tempPathFor(file), STALE);
    const fresh = aged(tempPathFor(file), 1_000);
    const otherFiles = aged(tempPathFor(join(dir, "gw.pid")), STALE);
    await writePrivateFile(file, "{}\n");
    expect(names(dir)).toEqual([otherFiles, file, fresh].map((p) => p.split("/").pop()!).sort());
    expect(names(dir)).not.toContain(stale.split("/").pop());
    const unit = join(dir, "gw.service");
    aged(tempPathFor(unit), STALE);
    await writeFileAtomic(unit, "[Unit]\n");
    expect(names(dir).filter((n) => n.startsWith("gw.service"))).toEqual(["gw.service"]);
  });
});
