// instances.json (orphans.ts childRegistry) through a write that fails: a full disk for a moment
// must not stop the registry for the rest of gw's life, nor make stopping gw throw.
import { expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { childRegistry } from "../../src/supervisor/orphans.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";
import { tempDir } from "../helpers/tmp.ts";

test("a failed write is said once; the next change writes the whole list again", async () => {
  const paths = gwPaths(tempDir("gw-orphans-"));
  mkdirSync(paths.childrenFile, { recursive: true }); // the file cannot be replaced while a directory sits there
  const said: string[] = [];
  const children = [{ name: "a", pid: process.pid }];
  const registry = childRegistry(paths, () => children, { info: (m) => said.push(`info ${m}`), warn: (m) => said.push(`warn ${m}`) });
  registry.update();
  registry.update();
  await registry.flushed(); // resolves: gw's stop awaits it
  expect(said).toHaveLength(1);
  expect(said[0]).toStartWith(`warn cannot write ${paths.childrenFile}: `);
  expect(said[0]).toContain("the instances' pids are not recorded");

  rmSync(paths.childrenFile, { recursive: true });
  registry.update();
  await registry.flushed();
  const file = JSON.parse(readFileSync(paths.childrenFile, "utf8")) as { children: { name: string; pid: number }[] };
  expect(file.children.map((c) => [c.name, c.pid])).toEqual([["a", process.pid]]);
  expect(said[1]).toBe(`info ${paths.childrenFile} is written again`);
});
