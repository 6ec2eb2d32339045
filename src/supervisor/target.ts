// Which gw a command means: the one for -c FILE / ./providers.toml / $GW_CONFIG, or — when no
// config is found — the embedded demo's.
import { dirname } from "node:path";
import { findConfigFile } from "../config/index.ts";
import { demoDir } from "./demo.ts";
import { type GwPaths, gwPaths } from "./paths.ts";

export function targetPaths(explicit: string | undefined): GwPaths {
  const file = findConfigFile(explicit);
  return gwPaths(file ? dirname(file) : demoDir(process.env));
}
