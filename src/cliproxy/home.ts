// Where `gw cliproxy install` keeps CLIProxyAPI: one directory per version under the user's data
// directory, and `current` pointing at the one in use — shared by every config of this user.
import { homedir } from "node:os";
import { join } from "node:path";
import type { Env } from "../config/env.ts";
import { BINARY_NAME } from "./release.ts";

export function cliproxyHome(env: Env): string {
  return join(env.XDG_DATA_HOME || join(env.HOME || homedir(), ".local", "share"), "gw", "cliproxy");
}

/** The installed binary gw uses by default; the path stays the same across versions. */
export const managedBinary = (env: Env) => join(cliproxyHome(env), "current", BINARY_NAME);
