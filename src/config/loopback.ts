// Whether a host name is this machine's loopback. Apart from global.ts so that cld's modes and
// gw run's launcher, which ask only this, do not load the config reader with it.

// `localhost.` (the root's dot) is the same name: a resolver answers it alike.
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost\.?|::1|\[::1\])$/i;
export const isLoopback = (host: string) => LOOPBACK.test(host);

/** An instance that listens on this machine's ports (gw runs it, or its url is loopback): two such on one port are one too many. */
export const onThisMachine = (inst: { readonly managed: boolean; readonly baseUrl: string }) => inst.managed || isLoopback(hostOf(inst.baseUrl));

/** The host of a URL (`http://user:pass@127.0.0.1:8146` → 127.0.0.1, `http://[::1]:1` → [::1]); "" when it is none. */
function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return "";
  }
}
