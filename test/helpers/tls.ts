// A self-signed certificate for 127.0.0.1 (and the name gw.test), made by openssl: what a TLS
// server in a test presents, and what its client trusts (NODE_EXTRA_CA_CERTS, or a `ca` option).
export async function selfSigned(cert: string, key: string): Promise<void> {
  const args = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=gw.test", "-addext", "subjectAltName=DNS:gw.test,IP:127.0.0.1", "-keyout", key, "-out", cert];
  const p = Bun.spawn(["openssl", ...args], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  if ((await p.exited) !== 0) throw new Error(`openssl: ${await new Response(p.stderr).text()}`);
}
