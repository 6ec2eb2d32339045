// The policies behind /healthz and gw up's start verdict (pure): which states count as able to
// serve, when to keep waiting, and when nothing can serve.
import { describe, expect, test } from "bun:test";
import { healthOf, type InstanceView, notReadyLines, reasonsNotReady, startVerdict } from "../../src/supervisor/health.ts";
import { probeAnswer } from "../../src/lb/local.ts";

const inst = (name: string, state: string, problem = "", managed = true): InstanceView => ({ name, managed, state, problem });

describe("healthOf", () => {
  test("ok, degraded, failed; an instance given by url counts as able to serve", () => {
    expect(healthOf([inst("a", "ready"), inst("b", "ready")])).toEqual({ status: "ok", ready: 2, total: 2, notReady: [] });
    expect(healthOf([inst("a", "ready"), inst("b", "crashloop")])).toEqual({ status: "degraded", ready: 1, total: 2, notReady: ["b"] });
    expect(healthOf([inst("a", "backoff"), inst("b", "failed")])).toEqual({ status: "failed", ready: 0, total: 2, notReady: ["a", "b"] });
    expect(healthOf([inst("a", "failed"), inst("r", "external", "", false)]).status).toBe("degraded");
  });
});

describe("startVerdict", () => {
  test("serve when anything is ready, or alive but slow; wait while something may still come up; else give up", () => {
    expect(startVerdict([inst("a", "ready"), inst("b", "backoff")], false).kind).toBe("serve");
    expect(startVerdict([inst("a", "unready"), inst("b", "failed")], false).kind).toBe("serve");
    expect(startVerdict([inst("a", "backoff"), inst("b", "failed")], false).kind).toBe("wait");
    expect(startVerdict([inst("a", "starting")], false).kind).toBe("wait");
    expect(startVerdict([inst("a", "backoff")], true).kind).toBe("give-up");
    expect(startVerdict([inst("a", "crashloop"), inst("b", "failed")], false).kind).toBe("give-up");
    expect(startVerdict([], false).kind).toBe("serve"); // only instances given by url, or none
  });

  test("the reasons why none is ready: alike ones once, naming every instance; others each with their own", () => {
    const noBinary = (n: string) => inst(n, "failed", `CLIProxyAPI binary for instance '${n}' not found — get it`);
    expect(reasonsNotReady([noBinary("a"), inst("r", "ready"), noBinary("b"), noBinary("c")])).toEqual(["CLIProxyAPI binary for instances 'a', 'b', 'c' not found — get it"]);
    expect(reasonsNotReady([noBinary("a"), inst("b", "crashloop", "instance 'b' exited (code 3): logs/b.log ends: x"), inst("c", "starting"), inst("d", "failed", "port taken")])).toEqual([
      "CLIProxyAPI binary for instance 'a' not found — get it",
      "instance 'b' exited (code 3): logs/b.log ends: x",
      "instance 'c' is starting, no answer yet",
      "port taken",
    ]);
    expect(reasonsNotReady([inst("a", "failed", "port taken"), inst("b", "failed", "port taken")])).toEqual(["instances 'a', 'b': port taken"]);
  });

  test("not-ready lines carry each instance's own reason", () => {
    expect(notReadyLines([inst("a", "ready"), inst("b", "failed", "CLIProxyAPI binary for instance 'b' not found"), inst("c", "starting")])).toEqual([
      "  CLIProxyAPI binary for instance 'b' not found",
      "  instance 'c' is starting, no answer yet",
    ]);
  });
});

describe("/healthz answers", () => {
  const answer = async (method: string, path: string, h?: ReturnType<typeof healthOf>) => {
    const res = probeAnswer(method, path, h && (() => h))!;
    return [res.status, await res.text()];
  };

  test("without a supervisor (gw lb) CLIProxyAPI's own answer; with one, the counts; 503 only when failed", async () => {
    expect(await answer("GET", "/healthz")).toEqual([200, '{"status":"ok"}']);
    expect(await answer("GET", "/healthz", healthOf([inst("a", "ready")]))).toEqual([200, '{"status":"ok","ready":1,"total":1,"not_ready":[]}']);
    expect(await answer("GET", "/healthz", healthOf([inst("a", "failed")]))).toEqual([503, '{"status":"failed","ready":0,"total":1,"not_ready":["a"]}']);
    expect(await answer("HEAD", "/healthz", healthOf([inst("a", "failed")]))).toEqual([503, ""]);
    expect(await answer("HEAD", "/", healthOf([inst("a", "failed")]))).toEqual([200, ""]);
    expect(probeAnswer("GET", "/v1/models")).toBeUndefined();
  });
});
