// An instance's auth-dir holds what `gw login` left, and whatever else someone put there: `gw mock`
// reads the credential types from it (auth-files.ts) and must stay up whatever it finds — a FIFO, a
// device, a file of megabytes, a symlink loop, a file that is no JSON — and say in one line what
// it skipped, the names quoted (a name may hold a newline).

import { afterAll, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scanAuthDir, typesIn } from "../../src/mock/auth-files.ts";
import { type SpawnedMock, spawnMock } from "../helpers/mock.ts";
import { freePorts } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tmp.ts";

let mock: SpawnedMock | undefined;
afterAll(() => mock?.stop());

test("a hostile auth-dir: the credentials in it still count, the mock starts, one line names what was skipped", async () => {
  const dir = tempDir("gw-authdir-");
  const auth = join(dir, "auth");
  mkdirSync(join(auth, "sub"), { recursive: true });
  writeFileSync(join(auth, "codex-user.json"), JSON.stringify({ type: "codex" }));
  writeFileSync(join(auth, "a.json"), JSON.stringify({ type: "constructor" })); // a name every object has
  writeFileSync(join(auth, "sub", "antigravity\nuser.json"), JSON.stringify({ type: "antigravity" }));
  writeFileSync(join(auth, "notes.json"), "not json");
  writeFileSync(join(auth, "huge.json"), `${" ".repeat(2 << 20)}{"type":"claude"}`);
  symlinkSync("/dev/zero", join(auth, "zero.json"));
  symlinkSync("..", join(auth, "sub", "up")); // a loop: a walk that follows it never ends
  expect(Bun.spawnSync(["mkfifo", join(auth, "pipe.json")]).exitCode).toBe(0); // a read blocks for ever

  expect(typesIn(scanAuthDir(auth, undefined, () => {}))).toEqual(["constructor", "codex", "antigravity"]);

  const [port] = await freePorts(1);
  writeFileSync(join(dir, "x.yaml"), `port: ${port}\nauth-dir: "${auth}"\napi-keys:\n  - k\n`);
  mock = await spawnMock(["-config", join(dir, "x.yaml")]);
  const res = await fetch(`${mock.url}/v1/models`, { headers: { authorization: "Bearer k" } });
  expect(res.status).toBe(200);
  // A model no YAML section lists: served by the first credential whose list holds it (Codex's).
  const answer = await fetch(`${mock.url}/v1/responses`, { method: "POST", headers: { authorization: "Bearer k", "content-type": "application/json" }, body: JSON.stringify({ model: "gpt-5.5", input: "hi" }) });
  expect(answer.status).toBe(200);
  for (const deadline = Date.now() + 10_000; !mock.output().includes("auth-dir") && Date.now() < deadline; ) await Bun.sleep(20);
  const lines = mock.output().split("\n").filter((l) => l.includes("auth-dir"));
  expect(lines).toEqual([
    `gw mock: auth-dir ${JSON.stringify(auth)}: skipped "huge.json" (over 1 MiB), "notes.json" (not JSON), "pipe.json" (not a file), "zero.json" (not a file)`,
  ]);
}, 30_000);
