// Child used by launch.test.ts: runs the spawn fallback the way cld does when execve is missing.
import { spawnAndForward } from "../../src/cld/launch.ts";

const [claude, ...args] = process.argv.slice(2);
process.exitCode = await spawnAndForward(claude!, args, { ...(process.env as Record<string, string>), FROM_RUNNER: "yes" });
