// Shared setup for the load balancer's end-to-end reliability tests (test/lb/resilience/):
// `gw mock` instances behind the real gateway, a config file in a temp dir (so the request log
// lands in its own logs/), SDK clients that report which target answered, and the request log.
import Anthropic from "@anthropic-ai/sdk";
import { type Content, GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { dirname, join } from "node:path";
import type { Subprocess } from "bun";
import type { RequestRecord } from "../../src/observe/record.ts";
import type { GatewayOptions, RunningGateway } from "../../src/lb/server.ts";
import { configFrom, deadUrl, externalInstances, startTestGateway, waitFor } from "./lb.ts";
import { type MockOptions, type MockServer, spawnMock, startMock } from "./mock.ts";
import { freePorts } from "./ports.ts";
import { startGw } from "./supervisor.ts";
import { tempDir } from "./tmp.ts";

export { waitFor } from "./lb.ts";

interface RigOptions {
  /** In-process `gw mock` instances by name; each accepts the key `key-NAME`. */
  mocks: string[];
  /** Instance names whose url is a loopback port where nothing listens (connection refused). */
  dead?: string[];
  /** Other upstreams by instance name → url (e.g. a `testUpstream` for answers the mock cannot give). */
  upstreams?: Record<string, string>;
  /** Extra `[global]` lines (cooldowns, retries, timeouts, auto-upgrade). */
  global?: string;
  /** The `[routing]` table's body. */
  routing: string;
  /** Options for every mock (e.g. events). */
  mockOptions?: Omit<MockOptions, "name" | "apiKeys" | "port">;
  /** Options for the gateway (its log, probe timing). */
  gateway?: Omit<GatewayOptions, "hostname" | "port">;
}

export interface Rig {
  readonly gw: RunningGateway;
  /** Directory of the providers.toml: the request log goes to `dir/logs/requests/`. */
  readonly dir: string;
  readonly mocks: Record<string, MockServer>;
  anthropic(): Anthropic;
  openai(): OpenAI;
  /** Model requests mock NAME has received so far (gw's probes, GET /v1/models, not counted). */
  hits(name: string): number;
  /** Stop mock NAME (its port then refuses connections). */
  kill(name: string): Promise<void>;
  /** Start mock NAME again on its port, optionally with an instance-wide fault. */
  revive(name: string, fault?: string): void;
  stop(): Promise<void>;
}

export function startRig(o: RigOptions): Rig {
  const dir = tempDir("gw-resilience-");
  const mocks: Record<string, MockServer> = {};
  const ports: Record<string, number> = {};
  const make = (name: string, port = 0, fault?: string) => {
    mocks[name] = startMock({ ...o.mockOptions, name, apiKeys: [`key-${name}`], port, ...(fault ? { fault } : {}) });
    ports[name] = mocks[name]!.port;
  };
  for (const name of o.mocks) make(name);
  const urls: Record<string, string> = Object.fromEntries(o.mocks.map((n) => [n, mocks[n]!.url]));
  for (const name of o.dead ?? []) urls[name] = deadUrl();
  Object.assign(urls, o.upstreams);
  const toml = `[global]\nmain_port = 8145\n${o.global ?? ""}\n${externalInstances(urls)}\n[routing]\n${o.routing}\n`;
  const gw = startTestGateway(configFrom(toml, join(dir, "providers.toml")), o.gateway);
  const alive = new Set(o.mocks);
  return {
    gw,
    dir,
    mocks,
    anthropic: () => new Anthropic({ baseURL: gw.url, apiKey: "client", maxRetries: 0 }),
    openai: () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "client", maxRetries: 0 }),
    hits: (name) => {
      const s = mocks[name]!.stats();
      return s.total - (s.byPath["/v1/models"] ?? 0);
    },
    async kill(name) {
      alive.delete(name);
      await mocks[name]!.stop();
    },
    revive(name, fault) {
      make(name, ports[name], fault);
      alive.add(name);
    },
    async stop() {
      await gw.stop(0);
      await Promise.all([...alive].map((n) => mocks[n]!.stop()));
    },
  };
}

/** What gw said about one answered request, plus the answer's text. */
interface Answered {
  status: number;
  route: string;
  target: string;
  attempts: number;
  text: string;
}

export const HI = [{ role: "user" as const, content: "hi" }];

function explained(status: number, h: Headers, text: string): Answered {
  return {
    status,
    route: h.get("x-gw-route") ?? "",
    target: h.get("x-gw-target") ?? "",
    attempts: Number(h.get("x-gw-attempts") ?? "NaN"),
    text,
  };
}

type ClaudeParams = Omit<Anthropic.MessageCreateParamsNonStreaming, "model" | "max_tokens" | "messages"> &
  Partial<Pick<Anthropic.MessageCreateParamsNonStreaming, "messages" | "max_tokens">>;

/**
 * One Anthropic SDK call, streamed (read to its final message) or not. Resolves with gw's
 * explanation headers and the answer text; rejects with the SDK's own error.
 */
export async function claude(
  client: Anthropic,
  model: string,
  o: { stream?: boolean; headers?: Record<string, string>; params?: ClaudeParams } = {},
): Promise<Answered & { message: Anthropic.Message }> {
  const body = { model, max_tokens: 2048, messages: HI, ...o.params };
  const opts = { headers: o.headers };
  if (o.stream) {
    const { data, response } = await client.messages.stream(body, opts).withResponse();
    const message = await data.finalMessage();
    return { ...explained(response.status, response.headers, textOf(message)), message };
  }
  const { data, response } = await client.messages.create(body, opts).withResponse();
  return { ...explained(response.status, response.headers, textOf(data)), message: data };
}

/** One OpenAI chat completion through the SDK, streamed (consumed to the end) or not. */
export async function chat(
  client: OpenAI,
  model: string,
  o: { stream?: boolean; headers?: Record<string, string>; params?: Record<string, unknown> } = {},
): Promise<Answered> {
  const body = { model, messages: HI, ...o.params };
  if (o.stream) {
    const { data, response } = await client.chat.completions.create({ ...body, stream: true }, { headers: o.headers }).withResponse();
    let text = "";
    for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? "";
    return explained(response.status, response.headers, text);
  }
  const { data, response } = await client.chat.completions.create({ ...body, stream: false }, { headers: o.headers }).withResponse();
  return explained(response.status, response.headers, data.choices[0]?.message.content ?? "");
}

/** One Gemini SDK call (the model rides in the path), streamed (consumed to the end) or not. */
export async function gemini(client: GoogleGenAI, model: string, o: { stream?: boolean; contents?: Content[] } = {}): Promise<Answered> {
  let text = "";
  let headers: Record<string, string> | undefined;
  const contents = o.contents ?? "hi";
  if (o.stream) {
    for await (const chunk of await client.models.generateContentStream({ model, contents })) {
      text += chunk.text ?? "";
      headers ??= chunk.sdkHttpResponse?.headers;
    }
  } else {
    const r = await client.models.generateContent({ model, contents });
    [text, headers] = [r.text ?? "", r.sdkHttpResponse?.headers];
  }
  // The SDK keeps the headers but not the status; it raises on anything but 2xx.
  return explained(200, new Headers(headers), text);
}

export const geminiClient = (url: string) => new GoogleGenAI({ apiKey: "client", httpOptions: { baseUrl: url, apiVersion: "v1beta" } });

function textOf(m: Anthropic.Message): string {
  return m.content.map((b) => (b.type === "text" ? b.text : "")).join("");
}

/** The mock names the instance that answered in its text: "Mock answer from instance b, …". */
export function answeredBy(text: string): string | undefined {
  return /from instance (\S+?),/.exec(text)?.[1];
}

/** The rejection of a promise (fails the test if it resolved). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (v) => {
      throw new Error(`expected an error, got ${JSON.stringify(v)?.slice(0, 300)}`);
    },
    (e: unknown) => e,
  );
}

/** A streamed Claude call to `model` whose client leaves (aborts) once the first text has arrived. */
export async function leaveMidStream(client: Anthropic, model: string): Promise<void> {
  const ctrl = new AbortController();
  const stream = client.messages.stream({ model, max_tokens: 100, messages: HI }, { signal: ctrl.signal });
  const firstText = new Promise<void>((r) => stream.on("text", () => r()));
  void stream.done().catch(() => {});
  await firstText;
  ctrl.abort();
}

/** gw's explanation headers of an SDK error (APIError carries the response headers). */
export function errorExplained(e: unknown): Answered {
  const err = e as { status?: number; headers?: Headers; message?: string };
  return explained(err.status ?? 0, err.headers ?? new Headers(), err.message ?? String(e));
}

/** Send one request after another (paced) until `done` holds; fail after 10 s. */
export async function pollRequests(done: () => boolean, send: () => Promise<unknown>, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out (10 s) waiting for ${what}`);
    await send();
    await Bun.sleep(20);
  }
}

/** Records of the request log under `dir/logs/requests/`, in file order. */
export function readRequestLog(dir: string): RequestRecord[] {
  const logDir = join(dir, "logs", "requests");
  let names: string[];
  try {
    names = readdirSync(logDir).filter((n) => n.endsWith(".jsonl")).sort();
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const text = readFileSync(join(logDir, n), "utf8");
    // Only whole lines: gw may be appending the next batch while we read.
    return text
      .slice(0, text.lastIndexOf("\n") + 1)
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as RequestRecord);
  });
}

/** Poll the request log until `count` records matching `pick` are there; returns them. */
export async function logRecords(dir: string, count: number, pick: (r: RequestRecord) => boolean = () => true, timeoutMs = 10_000) {
  let found: RequestRecord[] = [];
  await waitFor(() => (found = readRequestLog(dir).filter(pick)).length >= count, timeoutMs, `${count} request-log records in ${dir}/logs/requests`).catch((e) => {
    throw new Error(`${(e as Error).message} (found ${found.length})`);
  });
  return found;
}

/** What `send` (one request to `model`) returned, and that request's record once it is in the log. */
export async function withRecord<T>(dir: string, model: string, send: () => Promise<T>): Promise<[T, RequestRecord]> {
  const pick = (r: RequestRecord) => r.request.model === model;
  const before = readRequestLog(dir).filter(pick).length;
  const out = await send();
  return [out, (await logRecords(dir, before + 1, pick))[before]!];
}

/** Every file under `root`, recursively (for the secret scan). */
export function filesUnder(root: string): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const p = join(root, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

export interface GatewayProcess {
  url: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  output(): string;
  /** SIGTERM (graceful stop), SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/**
 * `gw lb -c FILE` as a child process: the real command, with its own raised fetch limit (the
 * test process keeps Bun's 256 for its own SDK clients).
 */
export async function spawnGateway(file: string): Promise<GatewayProcess> {
  // bun test sets NODE_ENV=test, which turns consola down to warnings: the child is no test.
  const env = { ...process.env, NO_COLOR: "1", GW_CONFIG: undefined, NODE_ENV: undefined, CONSOLA_LEVEL: "3", XDG_CACHE_HOME: join(dirname(file), "cache") };
  const g = startGw({ dir: dirname(file), env }, ["lb", "-c", file]);
  const stop = async () => {
    if (g.proc.exitCode !== null || g.proc.signalCode) return;
    g.proc.kill("SIGTERM");
    const t = setTimeout(() => g.proc.kill("SIGKILL"), 10_000);
    await g.proc.exited;
    clearTimeout(t);
  };
  try {
    await g.waitFor(/listening on http:\/\/\S+/, 20_000);
  } catch (e) {
    await stop();
    throw e;
  }
  const url = /listening on (http:\/\/\S+)/.exec(g.output())![1]!;
  return { url, proc: g.proc, output: g.output, stop };
}

export interface MocksBehindGw {
  readonly client: OpenAI;
  stop(): Promise<void>;
}

/**
 * Two `gw mock` children, a and b (each accepting the key `key-NAME`; `mockArgs` gives a mock's
 * command line from its name and port), behind `gw lb` as a child process whose config in `dir`
 * gives both instances `providers = [{ type }]` and the routes `routing` (the [routing] table's
 * body); `client` is the official openai SDK on it, with the client key "client".
 */
export async function mocksBehindGw(
  dir: string,
  o: { readonly type: string; readonly routing: string; readonly mockArgs: (name: string, port: number) => string[] },
): Promise<MocksBehindGw> {
  const ports = await freePorts(3);
  const names = ["a", "b"];
  const mocks = await Promise.all(names.map((n, i) => spawnMock(o.mockArgs(n, ports[i]!))));
  const stopMocks = () => Promise.all(mocks.map((m) => m.stop()));
  const file = join(dir, "providers.toml");
  const instances = mocks.map((m, i) => `[instances.${names[i]}]\nurl = "${m.url}"\napi_key = "key-${names[i]}"\nproviders = [{ type = "${o.type}" }]`);
  writeFileSync(file, `[global]\nhost = "127.0.0.1"\nmain_port = ${ports[2]}\napi_keys = ["client"]\n${instances.join("\n")}\n[routing]\n${o.routing}`);
  const gw = await spawnGateway(file).catch(async (e) => {
    await stopMocks();
    throw e;
  });
  return {
    client: new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "client", maxRetries: 0, timeout: 30_000 }),
    async stop() {
      await gw.stop();
      await stopMocks();
    },
  };
}

/**
 * A raw TCP upstream that answers every request with a 200 whose Content-Length promises more
 * than it sends, then resets: an instance dying in the middle of a non-streamed answer (the
 * mock's faults only cut streams).
 */
export async function brokenBodyUpstream(): Promise<{ url: string; hits: () => number; stop: () => Promise<void> }> {
  let hits = 0;
  const srv = createServer((sock) => {
    sock.on("error", () => {});
    sock.once("data", () => {
      hits++;
      sock.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n{"id":"msg_1","type":"message","role":"assistant","content":[`);
      setTimeout(() => sock.destroy(), 20);
    });
  });
  await new Promise<void>((ok) => srv.listen(0, "127.0.0.1", () => ok()));
  const { port } = srv.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits: () => hits, stop: () => new Promise<void>((ok) => srv.close(() => ok())) };
}

/**
 * A raw TCP upstream that answers a connection's first request with an Anthropic message, and
 * closes the connection without an answer on its second — an instance retiring an idle
 * keep-alive connection just as gw sends on it. `holdMs` waits that long before the close (an
 * instance that was working on the request when its connection went). `requests` counts every
 * request, `connections` every connection.
 */
export async function idleClosingUpstream(holdMs = 0): Promise<{ url: string; requests: () => number; connections: () => number; stop: () => Promise<void> }> {
  let requests = 0;
  const open = new Set<Socket>();
  const srv = createServer((sock) => {
    open.add(sock);
    sock.on("close", () => open.delete(sock));
    let n = 0;
    sock.on("error", () => {});
    sock.on("data", () => {
      requests++;
      if (++n >= 2) {
        setTimeout(() => sock.destroy(), holdMs);
        return;
      }
      const body = JSON.stringify({ id: "msg_1", type: "message", role: "assistant", model: "claude-x", content: [{ type: "text", text: "hi from instance x, model claude-x" }], stop_reason: "end_turn", usage: { input_tokens: 1, output_tokens: 2 } });
      sock.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  });
  await new Promise<void>((ok) => srv.listen(0, "127.0.0.1", () => ok()));
  const { port } = srv.address() as AddressInfo;
  let connections = 0;
  srv.on("connection", () => connections++);
  const stop = () =>
    new Promise<void>((ok) => {
      srv.close(() => ok());
      for (const sock of open) sock.destroy(); // gw keeps the last one pooled
    });
  return { url: `http://127.0.0.1:${port}`, requests: () => requests, connections: () => connections, stop };
}
