// Preloaded by bunfig.toml: hooks here run around the whole test run.
import { afterAll } from "bun:test";
import { homedir } from "node:os";
import { join } from "node:path";
import { removeTempDirs } from "./helpers/tmp.ts";

afterAll(removeTempDirs);

// The gw processes tests start run with a temp HOME, where Bun would write its transpiler cache
// (large modules transpiled: ~700 KB for the price catalogue) anew each time — and fill a test's
// 1 MiB tmpfs HOME before gw writes a byte (test/run/full-disk.test.ts). They share the runner's.
process.env.BUN_RUNTIME_TRANSPILER_CACHE_PATH ??= join(process.env.BUN_INSTALL_CACHE_DIR ?? join(homedir(), ".bun", "install", "cache"), "@t@");
