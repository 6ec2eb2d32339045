// lastLogLine: the words an instance's log ends with, which gw's own lines quote when it exits
// (`instance 'a' exited (code 3) …; logs/a.log ends: …`) — on the terminal of gw up, gw up -d and
// gw status. CLIProxyAPI logs what clients and upstreams send it (a model name, an error text),
// so the line is others' text: its control characters must not reach the terminal.
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { lastLogLine } from "../../src/supervisor/logtail.ts";
import { tempDir } from "../helpers/tmp.ts";

test("the last line is shown as one line, its control characters escaped", async () => {
  const file = join(tempDir("gw-logtail-"), "a.log");
  writeFileSync(file, "--- gw: starting a at 2026-01-01T00:00:00.000Z: cli-proxy-api\nfatal: model \x1b]0;PWNED\x07\x1b[2Jx\u202e unknown\n");
  expect(await lastLogLine(file)).toBe("fatal: model \\u001b]0;PWNED\\u0007\\u001b[2Jx\\u202e unknown");
});
