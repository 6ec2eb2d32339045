// One naming convention for every --json output: snake_case keys, as in the request log.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { snakeKeys } from "../../src/cli/json.ts";
import { gw, killAll, MAIN, sandbox } from "../helpers/supervisor.ts";

const BODY = { model: "m", max_tokens: 8, messages: [{ role: "user", content: "hi" }] };

test("snakeKeys converts field names deeply and leaves values alone", () => {
  expect(snakeKeys({ uptimeMs: 1, lb: { openStreams: 2 }, instances: [{ lastExit: { exitCode: 3 }, name: "myInst", cooling: ["fooBar → x"] }] })).toEqual({
    uptime_ms: 1,
    lb: { open_streams: 2 },
    instances: [{ last_exit: { exit_code: 3 }, name: "myInst", cooling: ["fooBar → x"] }],
  });
});

const keys = (v: unknown): string[] => (Array.isArray(v) ? v.flatMap(keys) : v && typeof v === "object" ? Object.entries(v).flatMap(([k, x]) => [k, ...keys(x)]) : []);
/** The keys of a --json output that are not snake_case: one document, or one per line (NDJSON). */
function notSnake(stdout: string): string[] {
  const text = stdout.trim();
  let docs: unknown[];
  try {
    docs = [JSON.parse(text)];
  } catch {
    docs = text.split("\n").map((l) => JSON.parse(l));
  }
  return [...new Set(docs.flatMap(keys))].filter((k) => !/^[a-z0-9_]+$/.test(k));
}

test("every --json output, gw running or not (up -d, status, reload, restart, logs, upgrade, down, check, gen, migrate, usage, cliproxy version, version, init, route explain): snake_case keys only", async () => {
  const sb = await sandbox([{ name: "a" }]);
  try {
    const up = await gw(sb, ["up", "-d", "--json", "-c", sb.file]);
    expect(up.code).toBe(0);
    const started = JSON.parse(up.stdout);
    expect(started.instances[0]).toHaveProperty("uptime_ms");
    const status = JSON.parse((await gw(sb, ["status", "--json", "-c", sb.file])).stdout);
    expect(status).toHaveProperty("cooling_known");
    for (const k of [...keys(started), ...keys(status)]) expect(k).toMatch(/^[a-z0-9_]+$/);

    // Every other --json (issue 13: one convention for all, documented), running and not: a
    // command that prints its own JSON instead of going through printJson shows up here.
    await fetch(`http://127.0.0.1:${sb.mainPort}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(BODY) }).then((r) => r.text());
    const c = ["-c", sb.file];
    const commands = [
      ["reload", "--json", ...c],
      ["restart", "a", "--json", ...c],
      ["logs", "--json", "-n", "2", ...c],
      ["upgrade", "--json", ...c],
      ["down", "--json", ...c],
      ["check", "--json", ...c],
      ["gen", "--json", ...c],
      ["migrate", "--json", ...c],
      ["usage", "--json", ...c],
      ["usage", "--json", "--by", "route", ...c],
      ["cliproxy", "version", "--json", ...c],
      ["version", "--json"],
      ["init", join(sb.dir, "fresh"), "--json"],
    ];
    for (const args of commands) {
      const r = await gw(sb, args);
      expect([args.slice(0, 3).join(" "), r.stdout.trim().length > 2, notSnake(r.stdout)]).toEqual([args.slice(0, 3).join(" "), true, []]);
    }
    const explain = Bun.spawn([process.execPath, MAIN, "route", "explain", "--json", "-c", sb.file, "-"], { cwd: sb.dir, env: sb.env, stdin: new Blob([JSON.stringify(BODY)]), stdout: "pipe" });
    expect(notSnake(await new Response(explain.stdout).text())).toEqual([]);
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
