// A stand-in for a running gw on its control socket that does not begin its answers, for the
// control commands' waits (test/supervisor/silent-gw.test.ts). A real gw cannot be made busy on
// cue; this one records itself as the config's gw as gw up does, then, for any request:
//   busy DIR RELEASE   — blocks its event loop (a busy loop, as a huge reload would) until the
//                        file RELEASE exists, then answers /logs with one line
//   wedged DIR         — never answers, with its event loop idle (neither stopped nor busy)
// It prints "listening" once it takes requests.
import { existsSync, writeFileSync } from "node:fs";
import { ensurePrivateDir } from "../../src/fs/private.ts";
import { recordOf } from "../../src/supervisor/orphans.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";

const [mode, dir, release] = process.argv.slice(2) as [string, string, string | undefined];
const paths = gwPaths(dir);
ensurePrivateDir(paths.stateDir);
writeFileSync(paths.pidFile, `${JSON.stringify(await recordOf("gw", process.pid))}\n`);

Bun.serve({
  unix: paths.socket,
  ...({ idleTimeout: 0 } as object), // a wedged gw holds the request for as long as the command waits
  fetch(): Response | Promise<Response> {
    if (mode === "wedged") return new Promise(() => {});
    while (!existsSync(release!)) {} // busy: nothing else runs in this process until the file is there
    return new Response(`${JSON.stringify({ name: "gw", line: "answered after being busy" })}\n`, { headers: { "content-type": "application/x-ndjson" } });
  },
});
console.log("listening");
