// CLIProxyAPI builds up to v7.2.19 answer /v1internal:* to any loopback caller without a key — a
// web page in the user's browser among them. gw says so, with the fix, where it learns a version:
// `gw cliproxy version` (its -h) and `gw up` (the first line an instance prints).
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { keylessInternalWarning } from "../../src/cliproxy/keyless-internal.ts";
import { gw, killAll, MAIN, type Sandbox, sandbox, untilLogged } from "../helpers/supervisor.ts";
import { runGw, tempDir } from "../helpers/tmp.ts";

const cleanups: Sandbox[] = [];
afterAll(async () => {
  for (const sb of cleanups) await killAll(sb);
});

test("the builds that have the hole, and what is quoted of a version", () => {
  for (const v of ["6.0.0", "v7.2.19", "7.1.40-rc1"]) expect(keylessInternalWarning(v)).toContain("answers /v1internal:* on this machine without a key");
  for (const v of ["7.2.20", "v7.3.0", "8.0.0", "dev", "", null, undefined]) expect(keylessInternalWarning(v)).toBeUndefined();
  // A log line's rest after the number is not printed: it may carry escape sequences.
  expect(keylessInternalWarning("7.0.0\x1b]0;owned\x07")).toStartWith("CLIProxyAPI 7.0.0 answers");
});

test("gw cliproxy version warns of such a build, in text and in --json", async () => {
  const root = tempDir("gw-keyless-");
  const bin = join(root, "cpa");
  const env = { PATH: "/usr/bin:/bin", XDG_DATA_HOME: join(root, "data"), GW_CONFIG: "", GW_CLIPROXY: bin };
  for (const [version, warned] of [["7.2.19", true], ["7.2.20", false]] as const) {
    writeFileSync(bin, `#!/bin/sh\necho "CLIProxyAPI Version: ${version}, Commit: x, BuiltAt: y"\n`, { mode: 0o755 });
    const text = await runGw(["cliproxy", "version"], { cwd: root, env });
    expect(text.stdout.includes(`warning: CLIProxyAPI ${version} answers /v1internal:*`)).toBe(warned);
    const json = JSON.parse((await runGw(["cliproxy", "version", "--json"], { cwd: root, env })).stdout) as { version: string; warning?: string };
    expect(json.version).toBe(version);
    expect(json.warning !== undefined).toBe(warned);
  }
});

describe("gw up", () => {
  for (const [version, warned] of [["6.9.1", true], ["7.3.0", false]] as const)
    test(`an instance that prints CLIProxyAPI ${version} as its first line: ${warned ? "a warning with the fix" : "no warning"}, before it is said ready`, async () => {
      const sb = await sandbox([{ name: "a" }]);
      cleanups.push(sb);
      // The sandbox's stand-in, printing the version line CLIProxyAPI prints first.
      writeFileSync(join(sb.dir, "cliproxy.sh"), `#!/bin/sh\necho "CLIProxyAPI Version: ${version}, Commit: abc, BuiltAt: now"\nexec "${process.execPath}" "${MAIN}" mock "$@"\n`);
      expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
      await untilLogged(sb, "a: ready in");
      const log = await Bun.file(join(sb.dir, "logs", "gw.log")).text();
      expect(log.includes(`a: CLIProxyAPI ${version} answers /v1internal:* on this machine without a key`)).toBe(warned);
      if (warned) expect(log).toContain("gw cliproxy install");
      expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
    }, 60_000);
});
