// Two reloads while the first one's drain runs: the same instance moved twice (a → p1 → p2), and
// an instance removed then added back under its name. Real gw, real instances (gw mock), real streams.
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { controlJson } from "../../src/supervisor/control.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";
import type { StatusReport } from "../../src/supervisor/status.ts";
import { freePorts } from "../helpers/ports.ts";
import { chatThrough, followStream, gw, killAll, type Sandbox, sandbox, startGw, swapPorts, until } from "../helpers/supervisor.ts";

let sb: Sandbox;
afterAll(async () => {
  if (sb) await killAll(sb);
});

const listening = async (port: number) => {
  try {
    await fetch(`http://127.0.0.1:${port}/v1/models`);
    return true;
  } catch {
    return false;
  }
};

test("an instance moved twice during a drain lands on the second port; nothing is left on the first", async () => {
  sb = await sandbox([{ name: "a" }, { name: "b" }], "");
  const toml = readFileSync(sb.file, "utf8").replace("shutdown_grace_ms = 15000", "shutdown_grace_ms = 30000");
  writeFileSync(sb.file, `${toml}"ma" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }]\n`);
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  // 4 s streams: each drain must outlast the start of the gw reload that follows it (~0.3 s idle).
  const running = followStream(await chatThrough(sb, "ma", true, "interval=100~events=40"));
  await until(() => running.chunks > 0, 10_000, () => "the stream under way");
  const [p1, p2] = await freePorts(2);
  writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace(`port = ${sb.ports.a}\n`, `port = ${p1}\n`));
  const first = startGw(sb, ["reload", "-c", sb.file]);
  await first.waitFor("a: waiting for 1 request(s) in flight to finish", 10_000);
  writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace(`port = ${p1}\n`, `port = ${p2}\n`));
  const second = startGw(sb, ["reload", "-c", sb.file]);
  const text = await running.done;
  expect(text).not.toContain("stream broke");
  expect(text.trimEnd()).toEndWith("data: [DONE]");
  const codes = [await first.proc.exited, await second.proc.exited];
  expect(codes).toEqual([0, 0]);
  expect(second.output()).toMatch(/^a: restarted, ready in [\d.]+ s\nconfig reloaded\n$/);
  // The first reload's drain ends in a line too, and its follower sees a come back (the second's restart).
  expect(first.output()).toMatch(
    /^a: waiting for 1 request\(s\) in flight to finish .*\na: drained after 1 request\(s\) in flight finished \([\d.]+ s\); a later reload changed it meanwhile — its restart follows\na: restarted, ready in [\d.]+ s\nconfig reloaded\n$/,
  );
  const status = await controlJson<StatusReport>(gwPaths(sb.dir), "/status");
  const a = status.instances.find((i) => i.name === "a")!;
  expect([a.port, a.state]).toEqual([p2!, "ready"]);
  expect(await listening(p1!)).toBe(false);
  expect(await listening(sb.ports.a!)).toBe(false);
  const onA = await chatThrough(sb, "ma", false);
  expect(onA.status).toBe(200);
  await onA.arrayBuffer();

  // Removed, then added back under its name (on another port) before its drain has ended.
  const again = followStream(await chatThrough(sb, "ma", true, "interval=100~events=40"));
  await until(() => again.chunks > 0, 10_000, () => "the stream under way");
  const withA = readFileSync(sb.file, "utf8");
  const [p3] = await freePorts(1);
  const withoutA = withA.replace(/\[instances\.a\][\s\S]*?(?=\[instances\.b\])/, "").replace(/^"ma" = .*\n/m, "").replace('{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }, ', "");
  writeFileSync(sb.file, withoutA);
  const remove = startGw(sb, ["reload", "-c", sb.file]);
  await remove.waitFor("a: removed from the config", 10_000);
  writeFileSync(sb.file, withA.replace(`port = ${p2}\n`, `port = ${p3}\n`));
  const readd = startGw(sb, ["reload", "-c", sb.file]);
  const text2 = await again.done;
  expect(text2.trimEnd()).toEndWith("data: [DONE]");
  const codes2 = [await remove.proc.exited, await readd.proc.exited];
  expect(codes2).toEqual([0, 0]);
  expect(remove.output()).toMatch(/^a: removed from the config: waiting for 1 request\(s\) in flight to finish/);
  const s2 = await controlJson<StatusReport>(gwPaths(sb.dir), "/status");
  const a2 = s2.instances.find((i) => i.name === "a")!;
  expect([a2.port, a2.state]).toEqual([p3!, "ready"]);
  expect(await listening(p2!)).toBe(false);
  const onA2 = await chatThrough(sb, "ma", false);
  expect(onA2.status).toBe(200);
  await onA2.arrayBuffer();
  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
}, 120_000);

let swapped: Sandbox;
afterAll(async () => {
  if (swapped) await killAll(swapped);
});

test("an instance moved again while its move waits between its stop and its start: the first gw reload hears it come back too", async () => {
  // a and b swap ports; b drains a stream, so a — stopped already — waits for b's port to start.
  // Meanwhile a second reload moves a elsewhere. Before: the first gw reload said 'a: a later
  // reload changed it meanwhile — its restart follows' and never that a came back (the hand-on to
  // the later reload's work was lost once the move's first step had ended).
  swapped = await sandbox([{ name: "a" }, { name: "b" }], "");
  const [pa, pb] = [swapped.ports.a!, swapped.ports.b!];
  const toml = readFileSync(swapped.file, "utf8").replace("shutdown_grace_ms = 15000", "shutdown_grace_ms = 30000");
  writeFileSync(swapped.file, `${toml}"mb" = [{ instance = "b", provider = "antigravity", model = "gemini-3-flash" }]\n`);
  expect((await gw(swapped, ["up", "-d", "-c", swapped.file])).code).toBe(0);
  const running = followStream(await chatThrough(swapped, "mb", true, "interval=100~events=40"));
  await until(() => running.chunks > 0, 10_000, () => "the stream under way");
  swapPorts(swapped, pa, pb);
  const first = startGw(swapped, ["reload", "-c", swapped.file]);
  await first.waitFor("b: waiting for 1 request(s) in flight to finish", 10_000);
  const a = async () => (await controlJson<StatusReport>(gwPaths(swapped.dir), "/status")).instances.find((i) => i.name === "a")!;
  await until(async () => (await a()).pid === null, 10_000, () => "a stopped, waiting for b's port");
  const [p3] = await freePorts(1);
  writeFileSync(swapped.file, readFileSync(swapped.file, "utf8").replace(`port = ${pb}\n`, `port = ${p3}\n`));
  const second = startGw(swapped, ["reload", "-c", swapped.file]);
  expect((await running.done).trimEnd()).toEndWith("data: [DONE]");
  expect([await first.proc.exited, await second.proc.exited]).toEqual([0, 0]);
  expect(second.output()).toContain("a: restarted, ready in");
  expect(first.output()).toMatch(/\na: a later reload changed it meanwhile — its restart follows\n(.*\n)*a: restarted, ready in [\d.]+ s\n/);
  expect(first.output()).toContain("b: restarted after 1 request(s) in flight finished");
  expect([(await a()).port, (await a()).state]).toEqual([p3!, "ready"]);
  expect((await gw(swapped, ["down", "-c", swapped.file])).code).toBe(0);
}, 120_000);

// An edit saved, then `gw reload` typed: gw's file watcher has usually applied the edit (and its
// restarts ended) before the command arrives. It said only "config reloaded" — as if the edit had
// changed nothing; it now tells what the watcher's reload of the same edit did.
test("gw reload after the file watcher already applied the edit: it tells what that reload did — once: typed again, nothing", async () => {
  const edited = await sandbox([{ name: "a" }], "");
  try {
    expect((await gw(edited, ["up", "-d", "-c", edited.file])).code).toBe(0);
    const [p3] = await freePorts(1);
    writeFileSync(edited.file, readFileSync(edited.file, "utf8").replace(`port = ${edited.ports.a}\n`, `port = ${p3}\n`));
    const a = async () => (await controlJson<StatusReport>(gwPaths(edited.dir), "/status")).instances.find((i) => i.name === "a")!;
    await until(async () => (await a()).port === p3 && (await a()).state === "ready", 20_000, () => "the watcher's reload moved a");
    const reload = await gw(edited, ["reload", "-c", edited.file]);
    expect(reload.code).toBe(0);
    expect(reload.stdout).toMatch(/^a: restarted, ready in [\d.]+ s\nconfig reloaded\n$/);
    // Typed again, with nothing edited: that restart was told already, and none happened since.
    const pid = (await a()).pid;
    const again = await gw(edited, ["reload", "--json", "-c", edited.file]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, restarted: [] });
    expect((await a()).pid).toBe(pid);
  } finally {
    await killAll(edited);
  }
}, 60_000);
