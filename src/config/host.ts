// What `[global] host` may be: an address or name this machine can listen on. Checked when the file
// is read: Bun only finds out when gw up has started the instances, and its error named main_port.

/** A DNS name, `_` allowed (some /etc/hosts aliases have one); allowed_hosts adds a trailing dot. */
export const HOST_NAME = /^(?:[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/i;

/** node:net's isIP, loaded only for a value that needs it: node:net costs ~7 ms of every command that reads a config. */
export const ipVersion = (s: string): number => (require("node:net") as typeof import("node:net")).isIP(s);

/** Why `host` cannot be listened on, or undefined when it can ("" lets Bun pick localhost, as before). */
export function bindHostProblem(host: string): string | undefined {
  if (host === "" || host === "localhost" || host === "127.0.0.1" || host === "0.0.0.0" || host === "::") return undefined;
  // A name first: telling addresses apart needs node:net, which most configs never load.
  // 999.1.1.1 has a name's shape, but is meant as an address, and no resolver takes it.
  if (HOST_NAME.test(host) && !/^[\d.]+$/.test(host)) return undefined;
  if (ipVersion(host) !== 0 || (/^\[.*\]$/.test(host) && ipVersion(host.slice(1, -1)) === 6)) return undefined;
  return `host "${host}" is no address or host name gw can listen on`;
}
