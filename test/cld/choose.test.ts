// Which config cld uses (the pure rule; cld's behaviour around it is in config-choice.test.ts).
import { describe, expect, test } from "bun:test";
import { chooseConfig } from "../../src/cld/choose.ts";
import type { RunningGw } from "../../src/supervisor/registry.ts";

const gw = (pid: number, config: string): RunningGw => ({ pid, startTime: 1, kind: "up", config, url: "http://127.0.0.1:8145", demo: false, startedAt: "2026-01-01T00:00:00Z" });
const a = gw(10, "/srv/a/providers.toml");
const b = gw(11, "/srv/b/providers.toml");
const here = "/home/u/checkout/providers.toml";

describe("the config cld uses", () => {
  test("a named one first: -c, then $CLD_TOML, then $GW_CONFIG — before any running gw or ./providers.toml", () => {
    const all = { flag: "/f.toml", cldToml: "/c.toml", gwConfig: "/g.toml", running: [a, b], here, hereConfirmed: "confirmed" as const };
    expect(chooseConfig(all)).toEqual({ kind: "file", file: "/f.toml", origin: "-c", named: true });
    expect(chooseConfig({ ...all, flag: undefined })).toEqual({ kind: "file", file: "/c.toml", origin: "$CLD_TOML", named: true });
    expect(chooseConfig({ ...all, flag: undefined, cldToml: undefined })).toEqual({ kind: "file", file: "/g.toml", origin: "$GW_CONFIG", named: true });
  });

  test("a named file that a gw serves is reached where that gw listens (gw up --port N), not at its main_port", () => {
    const moved = { ...b, url: "http://127.0.0.1:39449" };
    expect(chooseConfig({ flag: b.config, running: [a, moved] })).toEqual({ kind: "file", file: b.config, origin: "-c", named: true, running: moved });
    expect(chooseConfig({ cldToml: b.config, running: [moved] })).toMatchObject({ origin: "$CLD_TOML", running: moved });
    expect(chooseConfig({ gwConfig: b.config, running: [moved] })).toMatchObject({ origin: "$GW_CONFIG", running: moved });
  });

  test("else the running gw's config, even with a providers.toml here", () => {
    expect(chooseConfig({ running: [a], here, hereConfirmed: "confirmed" })).toEqual({ kind: "file", file: a.config, origin: "the gw running as pid 10", named: true, running: a });
    expect(chooseConfig({ running: [a, { ...a, pid: 12, kind: "lb" }] })).toMatchObject({ kind: "file", file: a.config, running: a }); // one config, served twice
  });

  test("several running: the one serving ./providers.toml, else the list", () => {
    expect(chooseConfig({ running: [a, b], here: b.config, hereConfirmed: "new" })).toMatchObject({ kind: "file", file: b.config, running: b });
    expect(chooseConfig({ running: [a, b], here, hereConfirmed: "confirmed" })).toEqual({ kind: "several", running: [a, b] });
  });

  test("else ./providers.toml only as confirmed; new or changed means asking", () => {
    expect(chooseConfig({ running: [], here, hereConfirmed: "confirmed" })).toEqual({ kind: "file", file: here, origin: "./providers.toml, confirmed before", named: false });
    expect(chooseConfig({ running: [], here, hereConfirmed: "new" })).toEqual({ kind: "ask", file: here, changed: false });
    expect(chooseConfig({ running: [], here, hereConfirmed: "changed" })).toEqual({ kind: "ask", file: here, changed: true });
  });

  test("else the built-ins", () => {
    expect(chooseConfig({ running: [] })).toEqual({ kind: "builtin" });
  });
});
