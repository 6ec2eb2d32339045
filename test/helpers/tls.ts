// A self-signed certificate for 127.0.0.1 (and the name gw.test), made by openssl: what a TLS
// server in a test presents, and what its client trusts (NODE_EXTRA_CA_CERTS, or a `ca` option).
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export async function selfSigned(cert: string, key: string): Promise<void> {
  await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=gw.test", "-addext", "subjectAltName=DNS:gw.test,IP:127.0.0.1", "-keyout", key, "-out", cert]);
}

/**
 * A certificate authority and a server certificate it signed, for 127.0.0.1 and gw.test: what a
 * team's private CA gives its TLS proxy. Rust's TLS (Codex) takes no self-signed certificate as a
 * server's (a CA used as an end entity), so a server that such clients reach presents this one.
 */
export async function caSigned(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const f = (name: string) => join(dir, name);
  const ext = f("server.ext");
  writeFileSync(ext, "subjectAltName=DNS:gw.test,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
  await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=gw test CA", "-keyout", f("ca.key"), "-out", f("ca.pem")]);
  await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=gw.test", "-keyout", f("server.key"), "-out", f("server.csr")]);
  await openssl(["x509", "-req", "-in", f("server.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", f("server.pem")]);
  return { ca: f("ca.pem"), cert: f("server.pem"), key: f("server.key") };
}

async function openssl(args: string[]): Promise<void> {
  const p = Bun.spawn(["openssl", ...args], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  if ((await p.exited) !== 0) throw new Error(`openssl: ${await new Response(p.stderr).text()}`);
}
