// What gw up says when the load balancer cannot listen: the key to change depends on why. A port
// in use (or below 1024 without the right) is main_port's; an address this machine does not have,
// or a name that resolves to none, is host's — blaming main_port sent people to the wrong line.

/** The one line for a failed listen on `host`:`port`, naming the key to change. */
export function listenFailure(err: unknown, host: string, port: number): string {
  const code = (err as { code?: unknown } | null)?.code;
  const where = `the load balancer could not listen on ${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`;
  if (code === "EADDRINUSE" || code === "EACCES" || code === undefined) return `${where} — change [global] main_port or stop what uses it`;
  const why = err instanceof Error ? err.message.replace(/,? listen$/, "") : String(err);
  return `${where} (${why}) — change [global] host to an address this machine has ("127.0.0.1", "0.0.0.0", "::") or a name that resolves to one`;
}
