// What the control socket's requests do inside a running gw (control.ts carries them).
import { formatProblem } from "../config/index.ts";
import type { Reloader } from "../lb/reload.ts";
import { maskerOf } from "../observe/mask.ts";
import type { ControlHandlers } from "./control.ts";
import type { Drainer, InstanceSet } from "./instances.ts";
import type { InstanceWork } from "./lanes.ts";
import { logStream } from "./logtail.ts";
import { type GwPaths, instanceLog } from "./paths.ts";
import { buildStatus, type GatewayExtras, type StatusSources } from "./status.ts";

interface HandlerDeps {
  readonly paths: GwPaths;
  readonly sources: () => StatusSources;
  readonly set: InstanceSet;
  /** The LB, once it serves: a restart drains the instance's requests through it first. */
  readonly drainer: () => Drainer | null;
  readonly down: ControlHandlers["down"];
  /** Null until the LB serves: reloading a half-started gw would race its start. */
  readonly reloader: () => Reloader<InstanceWork> | null;
  readonly upgrade: ControlHandlers["upgrade"];
  /** An upgrade is under way: the successor adopts the instances as they are, so none may restart meanwhile. */
  readonly upgrading: () => boolean;
}

export function controlHandlers(d: HandlerDeps): ControlHandlers {
  const stopping = () => d.sources().phase === "stopping";
  return {
    status: () => buildStatus(d.sources()),
    upgrade: (binary) => d.upgrade(binary),
    down: d.down,
    async restart(name, progress) {
      if (stopping()) throw new Error("gw is stopping; nothing to restart");
      if (d.upgrading()) throw new Error("gw is upgrading; run gw restart again once the new gw serves");
      return name && !d.set.get(name) ? null : d.set.restart(name, d.drainer() ?? undefined, progress);
    },
    async reload(progress) {
      const reloader = d.reloader();
      // A new gw waiting for the old one's verdict serves, but has no reloader yet.
      if (!reloader && d.upgrading()) return { ok: false, problems: ["gw is upgrading; run gw reload again once the new gw serves"] };
      if (!reloader || stopping()) return { ok: false, problems: [`gw is ${d.sources().phase}; reload once it serves`] };
      const r = await reloader.reload();
      // Its instance work, with what earlier reloads still do (the file watcher's reload of the
      // same edit, often): what was said so far first, then each step as it comes.
      await r.work?.follow(progress);
      return { ok: r.ok, problems: r.problems.map((p) => formatProblem(p)) };
    },
    instanceNames: () => d.set.list().map((s) => s.name),
    flushLog: async () => (d.sources().gateway as GatewayExtras | null)?.flushLog?.(),
    explain(input) {
      const gateway = d.sources().gateway as GatewayExtras | null;
      return gateway?.explain ? gateway.explain(input.body, { path: input.path, session: input.session }) : null;
    },
    logs(name, n, follow, signal, markTail) {
      const { config } = d.sources();
      const all = [{ name: "gw", file: d.paths.gwLog }, ...config.instances.filter((i) => i.managed).map((i) => ({ name: i.name, file: instanceLog(d.paths, i.name) }))];
      const sources = name ? all.filter((s) => s.name === name) : all;
      return sources.length ? logStream(sources, n, follow, signal, (line) => maskerOf(d.sources().config).text(line), markTail) : null;
    },
  };
}
