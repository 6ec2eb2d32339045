// One naming convention for every --json output: snake_case keys, as in the request log.
import { expect, test } from "bun:test";
import { snakeKeys } from "../../src/cli/json.ts";
import { gw, killAll, sandbox } from "../helpers/supervisor.ts";

test("snakeKeys converts field names deeply and leaves values alone", () => {
  expect(snakeKeys({ uptimeMs: 1, lb: { openStreams: 2 }, instances: [{ lastExit: { exitCode: 3 }, name: "myInst", cooling: ["fooBar → x"] }] })).toEqual({
    uptime_ms: 1,
    lb: { open_streams: 2 },
    instances: [{ last_exit: { exit_code: 3 }, name: "myInst", cooling: ["fooBar → x"] }],
  });
});

test("gw up -d --json and gw status --json of a running gw: snake_case keys only", async () => {
  const sb = await sandbox([{ name: "a" }]);
  const keys = (v: unknown): string[] => (Array.isArray(v) ? v.flatMap(keys) : v && typeof v === "object" ? Object.entries(v).flatMap(([k, x]) => [k, ...keys(x)]) : []);
  try {
    const up = await gw(sb, ["up", "-d", "--json", "-c", sb.file]);
    expect(up.code).toBe(0);
    const started = JSON.parse(up.stdout);
    expect(started.instances[0]).toHaveProperty("uptime_ms");
    const status = JSON.parse((await gw(sb, ["status", "--json", "-c", sb.file])).stdout);
    expect(status).toHaveProperty("cooling_known");
    for (const k of [...keys(started), ...keys(status)]) expect(k).toMatch(/^[a-z0-9_]+$/);
  } finally {
    await gw(sb, ["down", "-c", sb.file]);
    await killAll(sb);
  }
}, 60_000);

test("gw up --json without -d is refused (it ran in the foreground printing its log lines, no JSON)", async () => {
  const sb = await sandbox([{ name: "a" }]);
  try {
    const r = await gw(sb, ["up", "--json", "-c", sb.file]);
    expect([r.code, r.stdout, r.stderr]).toEqual([1, "", "gw: --json goes with -d\n  gw up -d --json prints one JSON document once gw serves\n"]);
  } finally {
    await killAll(sb);
  }
});
