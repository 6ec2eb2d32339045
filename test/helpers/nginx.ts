// A real nginx in front of a gateway, as a team server runs it: one `server` block given by the
// test (the README's snippet, or a bare proxy_pass), on a free loopback port, with its files in a
// temp dir. TLS with a certificate for `gw.test` and 127.0.0.1 signed by a CA of its own (openssl).
import type { Subprocess } from "bun";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./ports.ts";
import { until } from "./supervisor.ts";
import { caSigned } from "./tls.ts";
import { tempDir } from "./tmp.ts";

export interface TestNginx {
  /** `https://127.0.0.1:PORT` (or http:// without TLS). */
  readonly url: string;
  readonly port: number;
  /** With TLS, the CA certificate (PEM) that signed nginx's: what a client trusts by NODE_EXTRA_CA_CERTS. */
  readonly cert: string;
  /** Lines nginx wrote to its error log (why a request failed there). */
  errors(): Promise<string>;
  stop(): Promise<void>;
}

function nginxBinary(): string | undefined {
  return Bun.which("nginx") ?? Bun.which("/usr/sbin/nginx") ?? undefined;
}

/**
 * Start nginx with `server` as its one server block. In it, `{{PORT}}` is nginx's own port,
 * `{{CERT}}` and `{{KEY}}` a certificate for gw.test and 127.0.0.1 signed by the CA in `cert`.
 */
export async function startNginx(server: string, o: { tls: boolean }): Promise<TestNginx> {
  const nginx = nginxBinary();
  if (!nginx) throw new Error("nginx is not installed (apt-get install -y nginx; .ci/deps lists it)");
  const dir = tempDir("gw-nginx-");
  const port = await freePort();
  // A server certificate signed by a CA of its own, the CA what clients trust.
  const { ca, cert, key } = o.tls ? await caSigned(dir) : { ca: "", cert: "", key: "" };
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `${t}_temp_path ${dir}/${t};`).join(" ");
  // As root the workers would run as nobody, who may not write the temp dir (a large body is kept there).
  const user = process.getuid?.() === 0 ? "user root root;" : "";
  const conf = `worker_processes 1;
${user}
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  ${temp}
  ${server.replaceAll("{{PORT}}", String(port)).replaceAll("{{CERT}}", cert).replaceAll("{{KEY}}", key)}
}
`;
  writeFileSync(join(dir, "nginx.conf"), conf);
  const proc: Subprocess = Bun.spawn([nginx, "-p", dir, "-e", join(dir, "error.log"), "-c", join(dir, "nginx.conf")], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const url = `${o.tls ? "https" : "http"}://127.0.0.1:${port}`;
  const errors = () => Bun.file(join(dir, "error.log")).text().catch(() => "");
  await until(
    async () => {
      if (proc.exitCode !== null) throw new Error(`nginx exited (${proc.exitCode}): ${await new Response(proc.stderr as ReadableStream).text()}${await errors()}`);
      return fetch(`${url}/healthz`, { tls: { rejectUnauthorized: false } }).then(() => true, () => false);
    },
    10_000,
    () => `nginx on port ${port} to answer`,
  );
  return {
    url,
    port,
    cert: ca,
    errors,
    async stop() {
      proc.kill("SIGTERM"); // the master takes its worker down
      await proc.exited;
    },
  };
}
