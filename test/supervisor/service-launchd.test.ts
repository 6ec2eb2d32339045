// The macOS LaunchAgent of `gw service install`, read back by a real plist parser (Python's
// plistlib, the format launchd reads; plutil is macOS-only): paths carrying <, &, ]]> and quotes
// arrive as written. launchctl itself cannot run here.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { launchdAgent, serviceUnit, type UnitHost } from "../../src/supervisor/service.ts";

const PYTHON = Bun.which("python3");
if (!PYTHON) throw new Error("python3 is needed by this test (apt-get install -y python3)");

/** The plist as launchd would read it, or the parser's complaint. */
function parsePlist(text: string): { ok: true; value: Record<string, unknown> } | { ok: false; error: string } {
  const p = Bun.spawnSync([PYTHON!, "-c", "import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))"], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
  return p.exitCode === 0 ? { ok: true, value: JSON.parse(p.stdout.toString()) } : { ok: false, error: p.stderr.toString() };
}

const crafted = `/Users/u/a <b> & c ]]> "q" 'x' $HOME %z`;
const mac = (over: Partial<UnitHost> = {}): UnitHost => ({
  platform: "darwin",
  root: false,
  uid: 501,
  home: "/Users/u",
  user: "u",
  self: [`${crafted}/bin/gw`],
  env: { PATH: `${crafted}/bin:/opt/homebrew/bin:/usr/bin:/bin`, GW_CLIPROXY: "a&b<c>" },
  ...over,
});

describe("launchd agent", () => {
  test("every value arrives as written, however crafted the path; the agent keeps gw up the way the systemd unit does", () => {
    const plan = launchdAgent(`${crafted}/providers.toml`, crafted, 30_000, mac());
    // What service install asks of a file already there: does it serve this config? (another's does not)
    expect(plan.text).toContain(plan.serves);
    expect(launchdAgent(`${crafted}/other.toml`, crafted, 30_000, mac()).text).not.toContain(plan.serves);
    const parsed = parsePlist(plan.text);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.value).toEqual({
      Label: "local.gw",
      ProgramArguments: [`${crafted}/bin/gw`, "up", "-c", `${crafted}/providers.toml`],
      WorkingDirectory: crafted,
      EnvironmentVariables: { PATH: `${crafted}/bin:/opt/homebrew/bin:/usr/bin:/bin`, GW_CLIPROXY: "a&b<c>", GW_DETACHED_CHILD: "1" },
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false }, // restarted after a crash, not after gw down
      ThrottleInterval: 5,
      ExitTimeOut: 55, // ≥ shutdown grace (30 s) + the instances' kill wait
      ProcessType: "Interactive",
      StandardOutPath: `${crafted}/logs/gw.log`,
      StandardErrorPath: `${crafted}/logs/gw.log`,
    });
    expect(plan.path).toBe("/Users/u/Library/LaunchAgents/local.gw.plist");
    expect(plan.dirs).toEqual([`${crafted}/logs`]);
    expect(plan.enable).toContain("launchctl bootstrap gui/501 /Users/u/Library/LaunchAgents/local.gw.plist");
    expect(plan.enable).toContain("launchctl bootout gui/501/local.gw");
    expect(plan.enable).toContain("gw reload");
    // The check has teeth: the same plist with the path written raw does not parse.
    expect(parsePlist(plan.text.replaceAll("&lt;", "<").replaceAll("&amp;", "&")).ok).toBe(false);
  });

  test("a path with a control character is refused in one line (XML cannot carry it)", () => {
    expect(() => launchdAgent("/a\u0001b/providers.toml", "/a\u0001b", 1000, mac())).toThrow("a launchd plist cannot carry this path (a control character)");
  });

  test("the platform picks it: launchd on macOS, systemd elsewhere", () => {
    expect(serviceUnit("/Users/u/gw/providers.toml", "/Users/u/gw", 1000, mac()).path).toEndWith("/Library/LaunchAgents/local.gw.plist");
    const linux = serviceUnit("/home/u/gw/providers.toml", "/home/u/gw", 1000, mac({ platform: "linux", home: "/home/u" }));
    expect(linux.path).toBe(join("/home/u", ".config/systemd/user/gw.service"));
    expect(linux.text).toContain("Type=notify");
  });
});
