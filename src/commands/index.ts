import type { CommandDef } from "citty";

/** Lazy loaders: `gw cld` must not pay for loading the LB or the supervisor. */
export const commands: Record<string, () => Promise<CommandDef<any>>> = {
  up: () => import("./up.ts").then((m) => m.default),
  down: () => import("./down.ts").then((m) => m.default),
  status: () => import("./status.ts").then((m) => m.default),
  restart: () => import("./restart.ts").then((m) => m.default),
  reload: () => import("./reload.ts").then((m) => m.default),
  logs: () => import("./logs.ts").then((m) => m.default),
  gen: () => import("./gen.ts").then((m) => m.default),
  check: () => import("./check.ts").then((m) => m.default),
  init: () => import("./init.ts").then((m) => m.default),
  login: () => import("./login.ts").then((m) => m.default),
  cliproxy: () => import("./cliproxy.ts").then((m) => m.default),
  migrate: () => import("./migrate.ts").then((m) => m.default),
  cld: () => import("./cld.ts").then((m) => m.default),
  run: () => import("./run.ts").then((m) => m.default),
  install: () => import("./install.ts").then((m) => m.default),
  mock: () => import("./mock.ts").then((m) => m.default),
  usage: () => import("./usage.ts").then((m) => m.default),
  service: () => import("./service.ts").then((m) => m.default),
  lb: () => import("./lb.ts").then((m) => m.default),
  route: () => import("./route.ts").then((m) => m.default),
  deploy: () => import("./deploy.ts").then((m) => m.default),
  upgrade: () => import("./upgrade.ts").then((m) => m.default),
  version: () => import("./version.ts").then((m) => m.default),
  _complete: () => import("./_complete.ts").then((m) => m.default),
};

/**
 * What the list of commands (`gw --help`) says of each: here rather than only in each command's
 * file, so that listing them loads none of them: loading all 24 (and with them node:net, zlib,
 * crypto, the LB, yaml…) was ~50 ms of `gw --help` (bench/startup.ts). Each command's meta takes its own.
 */
export const ABOUT = {
  up: "check the config, write instance YAML, start instances, serve the load balancer (-d: detach)",
  down: "stop the running gw: let streams finish, then stop its instances",
  status: "instances, load balancer and cooling targets of the running gw",
  restart: "restart one instance, or all one by one: each first lets its requests in flight finish while its routes fail over",
  reload: "re-read the config: rewrite instance YAML, swap the LB config, start/stop/restart changed instances",
  logs: "show the logs of gw and its instances (-f: follow); reads the files when gw is not running",
  gen: "write instances/NAME.yaml for every instance gw starts (while gw up runs this config: by its reload)",
  check: "validate providers.toml and print every problem",
  init: "write a providers.toml to fill in, and a .env for its keys (nothing is overwritten)",
  login: "log an instance in to an OAuth provider (its credentials land in that instance's auth dir)",
  cliproxy: "install CLIProxyAPI from its GitHub releases (checksum-verified), or show the one in use",
  migrate: "from the old setup: copy its OAuth logins into the instances' auth dirs (dry run; --apply) and name the PM2 apps holding gw's ports",
  cld: "launch Claude Code through the gateway (cp), Antigravity (ag) or officially",
  run: "start a coding agent (claude, codex, gemini, opencode, qwen) through the gateway: gw run AGENT [FILTER] [-y] [args…]",
  install: "put gw and a cld link on PATH, with shell completions",
  mock: "a faithful stand-in for a CLIProxyAPI instance (tests, demo, benchmarks)",
  usage: "tokens and estimated cost from the request logs",
  service: "service install: print (or --write) the systemd unit (launchd agent on macOS) that runs gw up for this config",
  lb: "serve the load balancer alone, against instances already running",
  route: "route explain [BODY.json | MODEL | -]: how gw routes a request body now (router decision, route, target), from the running gw's state",
  deploy: "copy the right gw binary and this config to a host over ssh, start or upgrade gw there, roll back if it is not healthy",
  upgrade: "hand the running gw over to a new binary: streams in flight finish, no connection refused, instances kept",
  version: "version, git commit, build date and target of this gw (--json for scripts)",
  _complete: "candidates for shell completion",
} as const satisfies Record<keyof typeof commands & string, string>;

/**
 * Commands that serve the LB: it needs Bun settings read only at a process's start, so gw re-execs
 * itself with them (lb/concurrency.ts) before such a command loads. serve() did it later: the demo's
 * config was written twice (on new ports), the config loaded twice, and the LB's modules loaded
 * twice, ~140 ms of `gw up` (bench/startup.ts). `gw up -d` and `--help` re-exec too (~5 ms) for nothing.
 */
export const SERVING_COMMANDS = new Set(["up", "lb"]);

/** Commands that parse their own argv (they pass arguments through, mimic another binary's flags, or take the words TAB completes). */
export const RAW_ARGV_COMMANDS = new Set(["cld", "run", "mock", "_complete"]);

/** Words that are only a command's second word (`gw route explain`): typed alone, the unknown command names them whole. */
export const SECOND_WORDS: Readonly<Record<string, string>> = { explain: "route explain" };

/** What users may type: hidden commands (gw's own, `_` first) are left out of lists and hints. */
export const visibleCommands = () => Object.keys(commands).filter((c) => !c.startsWith("_"));
