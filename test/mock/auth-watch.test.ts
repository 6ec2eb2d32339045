// CLIProxyAPI watches its auth-dir and hot-reloads it, so `gw mock` does: a credential file added
// (`gw login`, a copy) makes its type's models served and listed without a restart, one removed
// takes them away, a broken file is skipped in one line and keeps what it last gave, and a burst
// of changes is read once. A real `gw mock` child, real files; every wait is on /v1/models or on
// the mock's own log line.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../src/fs/atomic-write.ts";
import { type SpawnedMock, spawnMock } from "../helpers/mock.ts";
import { freePorts } from "../helpers/ports.ts";
import { until } from "../helpers/supervisor.ts";
import { tempDir } from "../helpers/tmp.ts";

let mock: SpawnedMock;
let dir: string;
let auth: string;
let yaml: (authDir: string) => string;

beforeAll(async () => {
  dir = tempDir("gw-authwatch-");
  auth = join(dir, "auth");
  mkdirSync(auth);
  const [port] = await freePorts(1);
  // One key model: a model no section lists is then served only by a credential that lists it.
  yaml = (authDir) => `port: ${port}\nauth-dir: "${authDir}"\napi-keys: [k]\nclaude-api-key:\n  - api-key: sk-1\n    models: [{ name: claude-relay }]\n`;
  writeFileSync(join(dir, "x.yaml"), yaml(auth));
  mock = await spawnMock(["-config", join(dir, "x.yaml")]);
});
afterAll(() => mock?.stop());

const ids = async (): Promise<string[]> => {
  const res = await fetch(`${mock.url}/v1/models`, { headers: { authorization: "Bearer k" } });
  return ((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id);
};
const status = async (model: string) =>
  (await fetch(`${mock.url}/v1/chat/completions`, { method: "POST", headers: { authorization: "Bearer k" }, body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }) })).status;
const lines = (part: string) => mock.output().split("\n").filter((l) => l.includes(part));
const listed = (id: string, want = true) => until(async () => (await ids()).includes(id) === want, 10_000, () => `${id} ${want ? "" : "not "}listed`);

test("a credential added is served and listed; removed, it is gone — no restart", async () => {
  expect(await ids()).toEqual(["claude-relay"]);
  expect(await status("gpt-5.5")).toBe(400);

  writeFileSync(join(auth, "codex-user@example.com.json"), JSON.stringify({ type: "codex", email: "user@example.com" }));
  await listed("gpt-5.5");
  expect(await ids()).toEqual(["claude-relay", "gpt-5.4", "gpt-5.4-mini", "gpt-5.5", "codex-auto-review"]);
  expect(await status("gpt-5.5")).toBe(200);
  expect(await status("gpt-5.3-codex")).toBe(200); // any name of the family, as before

  rmSync(join(auth, "codex-user@example.com.json"));
  await listed("gpt-5.5", false);
  expect(await ids()).toEqual(["claude-relay"]);
  expect(await status("gpt-5.5")).toBe(400);
}, 30_000);

test("a broken file is skipped in one line and the rest still count; a credential broken by an edit keeps what it gave", async () => {
  writeFileSync(join(auth, "kimi-me.json"), JSON.stringify({ type: "kimi" }));
  writeFileSync(join(auth, "notes.json"), "{ not json");
  writeFileSync(join(auth, "half.json"), ""); // a writer that has not written yet: passed over in silence
  await listed("kimi-k3");
  await until(() => lines('"notes.json"').length > 0, 10_000, () => mock.output());
  expect(lines("skipped")).toEqual([`gw mock: auth-dir ${JSON.stringify(auth)}: skipped "notes.json" (not JSON)`]);

  writeFileSync(join(auth, "kimi-me.json"), '{"type": "ki'); // cut short
  await until(() => lines('"kimi-me.json"').length > 0, 10_000, () => mock.output());
  expect(lines("skipped").at(-1)).toBe(`gw mock: auth-dir ${JSON.stringify(auth)}: skipped "kimi-me.json" (not JSON; its last contents still count)`);
  expect(lines("skipped")).toHaveLength(2); // notes.json, still broken, is not said again
  expect(await ids()).toContain("kimi-k3");

  rmSync(join(auth, "kimi-me.json"));
  await listed("kimi-k3", false);
  for (const f of ["notes.json", "half.json"]) rmSync(join(auth, f));
}, 30_000);

test("a burst of changes is read once it settles", async () => {
  const before = lines("changed:").length;
  for (let i = 0; i < 20; i++) writeFileSync(join(auth, `xai-${i}.json`), JSON.stringify({ type: "xai", n: i }));
  await listed("grok-4.6");
  await until(() => lines("changed:").length > before, 10_000, () => mock.output());
  expect(lines("changed:").at(-1)).toBe(`gw mock: auth-dir ${JSON.stringify(auth)} changed: xai credentials`);
  // 20 files, 40-odd events: read once (twice if the machine stalled past the settle time).
  expect(lines("changed:").length - before).toBeLessThanOrEqual(2);
}, 30_000);

test("a config reload that moves auth-dir reads and watches the new one", async () => {
  const other = join(dir, "auth2");
  mkdirSync(other);
  writeFileSync(join(other, "claude-me.json"), JSON.stringify({ type: "claude" }));
  await writeFileAtomic(join(dir, "x.yaml"), yaml(other));
  await listed("claude-opus-4-7");
  await listed("grok-4.6", false); // the old directory's credentials no longer count

  const oldSaid = lines(JSON.stringify(auth)).length;
  writeFileSync(join(auth, "kimi-old.json"), JSON.stringify({ type: "kimi" })); // not watched any more
  writeFileSync(join(other, "kimi-new.json"), JSON.stringify({ type: "kimi" }));
  await listed("kimi-k3");
  // The models are listed as the reread ends; its line may reach the pipe a moment later.
  const said = `gw mock: auth-dir ${JSON.stringify(other)} changed: claude, kimi credentials`;
  await until(() => lines("changed:").at(-1) === said, 10_000, () => mock.output());
  expect(lines(JSON.stringify(auth))).toHaveLength(oldSaid);
}, 30_000);
