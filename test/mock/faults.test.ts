// The fault spec syntax (pure): tokens, precedence, and the errors a bad spec gives.

import { describe, expect, test } from "bun:test";
import { FaultSpecError, NO_FAULT, parseFault, resolveFault, splitModel } from "../../src/mock/faults.ts";

describe("parseFault", () => {
  test("status tokens pick CLIProxyAPI's error kind", () => {
    expect(parseFault("429")).toEqual({ status: 429, kind: "cooldown" });
    expect(parseFault("429=30")).toEqual({ status: 429, kind: "cooldown", retryAfterS: 30 });
    expect(parseFault("503")).toEqual({ status: 503, kind: "auth_unavailable" });
    expect(parseFault("401")).toEqual({ status: 401, kind: "auth" });
    expect(parseFault("403")).toEqual({ status: 403, kind: "quota" });
    expect(parseFault("sig")).toEqual({ status: 400, kind: "signature" });
    expect(parseFault("sig=foreign")).toEqual({ foreignSig: true });
    expect(parseFault("529")).toEqual({ status: 529, kind: "overloaded" });
    expect(parseFault("502")).toEqual({ status: 502, kind: "generic" });
  });

  test("knobs and flags combine with ~", () => {
    expect(parseFault("slow-first=800~interval=5~gap=100~keepalive=10~cut=3~events=7~gzip~hang~passthrough")).toEqual({
      passthrough: true,
      slowFirstMs: 800,
      intervalMs: 5,
      gapMs: 100,
      keepaliveMs: 10,
      cut: 3,
      events: 7,
      gzip: true,
      hang: true,
    });
    expect(parseFault("529~after=2")).toEqual({ status: 529, kind: "overloaded", after: 2 });
    expect(parseFault("think~tool~empty")).toEqual({ think: true, tool: true, toolName: "", empty: true });
    expect(parseFault("tool=read_file")).toEqual({ tool: true, toolName: "read_file" });
    expect(parseFault("")).toEqual({});
  });

  test.each([
    ["bogus", "unknown fault token \"bogus\""],
    ["cut=x", "fault token \"cut=x\" needs a whole number"],
    ["cut", "unknown fault token \"cut\""],
    ["gzip=1", "unknown fault token \"gzip=1\""],
    ["think=Bash", "unknown fault token \"think=Bash\""],
    ["200", "unknown fault token \"200\""],
  ])("%s is rejected", (spec, message) => {
    expect(() => parseFault(spec)).toThrow(FaultSpecError);
    expect(() => parseFault(spec)).toThrow(message);
  });
});

describe("splitModel and resolveFault", () => {
  test("everything from the first ~ is the spec; thinking suffix stays on the model", () => {
    expect(splitModel("gemini-3-flash")).toEqual({ model: "gemini-3-flash", spec: "" });
    expect(splitModel("claude-x(8192)~429~cut=3")).toEqual({ model: "claude-x(8192)", spec: "429~cut=3" });
  });

  test("model suffix beats header beats instance default, token by token", () => {
    const base = { ...NO_FAULT, intervalMs: 5, events: 4 };
    const f = resolveFault(base, "503~events=9~gzip", "429");
    expect(f.status).toBe(429);
    expect(f.kind).toBe("cooldown");
    expect(f.events).toBe(9);
    expect(f.gzip).toBe(true);
    expect(f.intervalMs).toBe(5);
    expect(resolveFault(base, null, "")).toBe(base);
    // A bare `tool` on the model means the first tool again, whatever the header named.
    expect([resolveFault(base, "tool=read_file", "tool").toolName, resolveFault(base, "tool=read_file", "").toolName]).toEqual(["", "read_file"]);
  });
});
