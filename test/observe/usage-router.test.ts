// `gw usage --by decision|category|rule`: how the `auto` router spread its requests and what
// each part cost, from the request log's router records.
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RouterRecord } from "../../src/observe/record.ts";
import { parseSince, usageReport } from "../../src/observe/usage.ts";
import { record, writeRecords } from "../helpers/observe.ts";
import { runGw, tempDir } from "../helpers/tmp.ts";

const NOW = Date.now();
const ts = new Date(NOW - 60_000).toISOString();
const routed = (route: string, router: Partial<RouterRecord>, input: number) => {
  const r = record({ ts, route, attempts: [`a/${route}:200:ok`], usage: { input, output: 10 } });
  r.routing.router = { requested: "auto", resolved: route, applied: true, decision: "no_rule", ...router };
  return r;
};

function logs(): string {
  const dir = tempDir("gw-usage-router-");
  writeRecords(join(dir, "logs", "requests"), [
    routed("sonnet", { decision: "category_hit_coding", category: "coding" }, 1000),
    routed("sonnet", { decision: "category_hit_coding", category: "coding" }, 3000),
    routed("opus", { decision: "rule_hit_big", rule: "big" }, 500),
    // this turn matched "explore", but the session stayed on the route "coding" gave it
    routed("sonnet", { decision: "session_hold", category: "explore", held: { route: "sonnet", decision: "category_hit_coding" } }, 100),
    record({ ts, route: "opus", attempts: ["a/opus:200:ok"], usage: { input: 7, output: 1 } }), // not through the router
  ]);
  return dir;
}

const PRICING = { sonnet: { input: 3, output: 15 }, opus: { input: 15, output: 75 } };

test("rows by decision, category and rule, with cost; a held session under the category that chose its route; other requests under -", async () => {
  const dir = join(logs(), "logs", "requests");
  const report = async (by: "decision" | "category" | "rule") =>
    Object.fromEntries((await usageReport({ dirs: [dir], pricing: PRICING, sinceMs: parseSince("1d", NOW)!, by })).rows.map((r) => [r.key, [r.requests, r.input, Number(r.costUsd.toFixed(6))]]));
  expect(await report("decision")).toEqual({
    category_hit_coding: [2, 4000, (4000 * 3 + 20 * 15) / 1e6],
    rule_hit_big: [1, 500, (500 * 15 + 10 * 75) / 1e6],
    session_hold: [1, 100, (100 * 3 + 10 * 15) / 1e6],
    "-": [1, 7, (7 * 15 + 75) / 1e6],
  });
  // by the category whose route each took: the held request under coding, not this turn's explore
  expect(await report("category")).toEqual({ coding: [3, 4100, expect.any(Number)], "-": [2, 507, expect.any(Number)] });
  expect(await report("rule")).toMatchObject({ big: [1, 500, expect.any(Number)], "-": [4, 4107, expect.any(Number)] });
});

test("gw usage --by decision prints the table", async () => {
  const dir = logs();
  writeFileSync(join(dir, "providers.toml"), `[global]\nmain_port = 8145\nhost = "127.0.0.1"\n[instances.a]\nport = 8146\n`);
  const r = await runGw(["usage", "-c", join(dir, "providers.toml"), "--by", "decision", "--since", "1d"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^decision\b/m);
  expect(r.stdout).toMatch(/^category_hit_coding\s+2\b/m);
  const bad = await runGw(["usage", "-c", join(dir, "providers.toml"), "--by", "decisions"]);
  expect(bad.stderr).toContain("use one of: day, route, target, model, client, agent, decision, category, rule");
});
