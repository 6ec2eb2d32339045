// Whether the installed Claude Code sends the hosts in NO_PROXY direct, so that behind the user's
// proxy its calls to a gateway on this machine stay on loopback while the rest of its traffic
// (Anthropic, WebFetch, MCP servers over HTTP) goes through the proxy (cld/proxies.ts). 2.1.332
// does (measured: test/run/agents-proxy.test.ts). Builds before it came and went: 2.1.23 to
// 2.1.37, and again from 2.1.83 or 2.1.92 to at least 2.1.206, sent every request to the proxy
// whatever NO_PROXY said (anthropics/claude-code#22752, #39862, #76295), and a proxy asked for
// 127.0.0.1 answers from its own machine. None between 2.1.206 and 2.1.332 was measured: every
// build before the measured one has the proxies blanked, as before — and so has one whose version
// cannot be told: taken to be current, an old build behind a shim would send the gateway's traffic
// to the proxy, which breaks every request, where blanking breaks only what needs the proxy.
// A shim or wrapper (mise, asdf, volta) hides the install layout: Claude Code is asked then
// (`claude --version`, 40 ms), and only when a proxy makes the answer matter (cld/proxies.ts).
import { knownAtLeast, printedVersion } from "../installed.ts";
import { claudeVersion } from "./resume.ts";

const NO_PROXY_SINCE = "2.1.332";

/** Whether the Claude Code at `command` honours NO_PROXY: a version its layout or `--version` tells, and a measured one. */
export const claudeHonoursNoProxy = (command: string): boolean => knownAtLeast(claudeVersion(command) ?? printedVersion(command), NO_PROXY_SINCE);
