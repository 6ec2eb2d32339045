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

/** Commands that parse their own argv (they pass arguments through, or mimic another binary's flags). */
export const RAW_ARGV_COMMANDS = new Set(["cld", "run", "mock"]);

/** What users may type: hidden commands (gw's own, `_` first) are left out of lists and hints. */
export const visibleCommands = () => Object.keys(commands).filter((c) => !c.startsWith("_"));
