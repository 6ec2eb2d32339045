// Preloaded by bunfig.toml: hooks here run around the whole test run.
import { afterAll } from "bun:test";
import { removeTempDirs } from "./helpers/tmp.ts";

afterAll(removeTempDirs);
